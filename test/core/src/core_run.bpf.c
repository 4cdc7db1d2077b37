/* CO-RE programs for the kernel to judge: read_tgid reads task->tgid through a local
 * task_struct whose layout is not the kernel's (run, it must return our tgid); read_old reads a
 * field the kernel lacks, so its read is poisoned and the verifier must refuse the call. */
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct { int pid; int tgid; } __attribute__((preserve_access_index));
struct task_struct___old { int pid_old; } __attribute__((preserve_access_index));

SEC("raw_tp/sys_enter")
int read_tgid(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, tgid);
}

SEC("raw_tp/sys_enter")
int read_old(void *ctx)
{
	struct task_struct___old *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, pid_old);
}

char LICENSE[] SEC("license") = "GPL";
