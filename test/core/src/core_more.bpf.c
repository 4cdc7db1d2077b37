/* More CO-RE shapes checked against libbpf: fields inside anonymous structs/unions, flexible
 * arrays, typedef roots, stores (ST/STX), loads that shrink or must be poisoned for signedness,
 * enum64 values, and type matches through forward declarations behind pointers. */
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

#define PAI __attribute__((preserve_access_index))

struct net_device;
struct sk_buff___l { struct net_device *dev; unsigned int len; struct sk_buff___l *prev; } PAI;
struct bpf_array___l { __u32 elem_size; void *pptrs[]; } PAI;
typedef struct { int counter; } PAI atomic_t___l;
struct task_struct___st { __u64 flags; long pid; unsigned int __state; } PAI;
struct inode___fwd;
struct file___m { struct inode___fwd *f_inode; } PAI;
enum perf_callchain_context___l { PERF_CONTEXT_KERNEL___l = 0xffffffffffffff80ULL, PERF_CONTEXT_NOPE___l = 5 };
enum perf_callchain_context___s { PERF_CONTEXT_USER___s = 1 };

__u64 out[32];

SEC("tp_btf/sched_process_fork")
int more(__u64 *ctx)
{
	void *p = (void *)bpf_get_current_task();
	struct sk_buff___l *skb = p;
	struct bpf_array___l *arr = p;
	atomic_t___l *a = p;
	struct task_struct___st *t = p;

	out[0] = (__u64)BPF_CORE_READ(skb, dev);
	out[1] = BPF_CORE_READ(skb, len);
	out[2] = (__u64)BPF_CORE_READ(skb, prev);
	out[3] = (__u64)BPF_CORE_READ(arr, pptrs[5]);
	out[4] = BPF_CORE_READ(a, counter);
	out[5] = bpf_core_type_id_kernel(atomic_t___l);
	out[6] = t->flags;
	if (bpf_core_field_exists(t->pid))
		out[7] = t->pid;
	t->__state = 1;
	t->__state = (unsigned int)out[8];
	out[9] = bpf_core_type_matches(struct file___m);
	out[10] = bpf_core_enum_value(enum perf_callchain_context___l, PERF_CONTEXT_KERNEL___l);
	out[11] = bpf_core_enum_value_exists(enum perf_callchain_context___l, PERF_CONTEXT_NOPE___l);
	out[12] = bpf_core_enum_value(enum perf_callchain_context___s, PERF_CONTEXT_USER___s);
	out[13] = bpf_core_type_size(enum perf_callchain_context___s);
	out[14] = bpf_core_type_matches(enum perf_callchain_context___s);
	out[15] = bpf_core_field_size(arr->pptrs[5]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
