/* CO-RE relocations of every kind clang emits, against kernel types from vmlinux.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct task_struct___old {
	int pid;
	long state;
} __attribute__((preserve_access_index));

enum some_enum___local { SOME_A = 1, SOME_B = 2 };

long out[16];

SEC("raw_tp/sys_enter")
int core_prog(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	out[0] = BPF_CORE_READ(t, pid);
	out[1] = BPF_CORE_READ(t, real_parent, tgid);
	out[2] = bpf_core_field_exists(t->__state);
	out[3] = bpf_core_field_size(t->comm);
	out[4] = bpf_core_field_offset(t->mm);
	out[5] = bpf_core_type_exists(struct task_struct___old);
	out[6] = bpf_core_type_size(struct task_struct);
	out[7] = bpf_core_type_id_kernel(struct task_struct);
	out[8] = bpf_core_type_id_local(struct task_struct___old);
	out[9] = bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_ARRAY);
	out[10] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_HASH);
	out[11] = BPF_CORE_READ_BITFIELD_PROBED(t, in_execve);
	out[12] = __builtin_preserve_field_info(t->prio, BPF_FIELD_SIGNED);
	out[13] = bpf_core_type_matches(struct task_struct___old);
	if (bpf_core_field_exists(((struct task_struct___old *)t)->state))
		out[14] = BPF_CORE_READ((struct task_struct___old *)t, state);
	return 0;
}

char _license[] SEC("license") = "GPL";
