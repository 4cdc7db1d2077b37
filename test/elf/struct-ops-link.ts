// The congestion control of fixtures/src/struct_ops_cc.bpf.c as a SEC(".struct_ops.link") map,
// compiled at test time (clang-19): the installed libbpf 1.1, which the fixture corpus is recorded
// and compared with, does not know .struct_ops.link, so this object is not a committed fixture.
// Its value is declared with a local flavor of tcp_congestion_ops (libbpf drops the ___suffix)
// holding a subset of the members in another order, so a loader must place them by name.

import { join } from "node:path";
import { ROOT } from "../support/env.ts";
import { compileC } from "./objects.ts";

export const STRUCT_OPS_LINK_SOURCE = `
#define TSBPF_LINK_VARIANT
#include "${join(ROOT, "fixtures/src/struct_ops_cc.bpf.c")}"

struct tcp_congestion_ops___tsbpf {
	char name[16];
	u32 flags;
	void (*set_state)(struct sock *sk, u8 new_state);
	u32 (*undo_cwnd)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, u32 ack, u32 acked);
	u32 (*ssthresh)(struct sock *sk);
	void (*init)(struct sock *sk);
	u32 key; /* zero: the kernel computes it from the name */
};

SEC(".struct_ops.link")
struct tcp_congestion_ops___tsbpf tsbpf_cc_link = {
	.name = "tsbpf_cc_link",
	.flags = TSBPF_TCP_CONG_NON_RESTRICTED,
	.init = (void *)tsbpf_init,
	.ssthresh = (void *)tsbpf_ssthresh,
	.cong_avoid = (void *)tsbpf_cong_avoid,
	.undo_cwnd = (void *)tsbpf_undo_cwnd,
	.set_state = (void *)tsbpf_set_state,
};
`;

let built: string | undefined;

/** Path of the compiled .struct_ops.link object (built once per test file). */
export function structOpsLinkObject(): string {
  return (built ??= compileC({ struct_ops_cc_link: STRUCT_OPS_LINK_SOURCE }, ["-D__TARGET_ARCH_x86"]).struct_ops_cc_link);
}
