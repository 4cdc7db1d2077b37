// A bcc libbpf-tools style program for test/load/events.test.ts: the record struct is a stack
// variable handed to bpf_perf_event_output, so clang puts it in DWARF but not in BTF; its name
// matches no map-name rule, so only the record size (padded by perf to 8 bytes) can choose it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct getpid_event {
	u32 pid;
	u32 tid;
	char comm[16];
	u64 ts;
	u16 cpu_hint;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	struct getpid_event e = {};
	u64 id = bpf_get_current_pid_tgid();

	e.pid = id >> 32;
	e.tid = (u32)id;
	e.ts = bpf_ktime_get_ns();
	e.cpu_hint = 7;
	bpf_get_current_comm(&e.comm, sizeof(e.comm));
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
