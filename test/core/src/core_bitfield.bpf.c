/* A bitfield read that the custom target (target_kernel.c) makes impossible: there the field
 * straddles an 8-byte boundary, so no load can cover it and libbpf fails the relocation. */
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

struct wide { unsigned long long big: 60; } __attribute__((preserve_access_index));

__u64 out[1];

SEC("tp_btf/sched_process_fork")
int wide_read(__u64 *ctx)
{
	struct wide *w = (void *)bpf_get_current_task();

	out[0] = BPF_CORE_READ_BITFIELD_PROBED(w, big);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
