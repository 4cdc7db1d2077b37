/* Relocations against types that the custom target (target_kernel.c) defines in two flavors:
 * `agree` resolves (both flavors put the field at the same offset), `amb` is ambiguous, which
 * fails the load. The ambiguous one comes last because libbpf stops at the first failure. */
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

struct agree { int x; long y; } __attribute__((preserve_access_index));
struct amb { int a; } __attribute__((preserve_access_index));

__u64 out[4];

SEC("tp_btf/sched_process_fork")
int ambiguous(__u64 *ctx)
{
	struct agree *g = (void *)bpf_get_current_task();
	struct amb *a = (void *)g;

	out[0] = BPF_CORE_READ(g, y);
	out[1] = BPF_CORE_READ(a, a);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
