// CO-RE through typedef'd and const members, checked against libbpf: reads like cred->euid.val
// (kuid_t is a typedef of a struct), sock->__sk_common.skc_net.net, 6.18's `const struct qstr
// d_name` inside an anonymous union, and arrays of typedef'd structs — written in C here, built
// with clang-19, relocated by us and by libbpf (its debug log and BPF_PROG_LOAD bytes) against the
// running kernel's BTF.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseBtf, type Btf } from "../../btf/index.ts";
import { objectCoreFixups } from "../../btf/core/index.ts";
import { loadObject, type ObjectSpec } from "../../src/elf/index.ts";
import { haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";
import { compareInsns, compareLog } from "./compare.ts";
import { buildOracle, compileBpf, runOracle, type LibbpfObject } from "./oracle.ts";

const ready = haveTool("clang-19") && haveRoot() && haveKernelBtf();

const PRELUDE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#define PAI __attribute__((preserve_access_index))
char LICENSE[] SEC("license") = "GPL";
__u64 out[64];
`;

/** Each source is one object; the kernel's own types (vmlinux.h) and local flavors of them. */
const SOURCES: Record<string, string> = {
  // The kernel's typedef'd struct members, read through vmlinux.h's types.
  kernel_typedefs: `
SEC("tp_btf/sched_switch") int euid(u64 *ctx) {
  struct task_struct *t = (void *)ctx[1];
  out[0] = BPF_CORE_READ(t, cred, euid.val);
  out[1] = BPF_CORE_READ(t, real_cred, fsgid.val);
  out[2] = bpf_core_field_size(t->cred->euid);
  out[3] = bpf_core_field_offset(t->cred->euid.val);
  out[4] = __builtin_preserve_field_info(t->cred->euid.val, BPF_FIELD_SIGNED);
  out[5] = bpf_core_field_exists(t->cred->euid.val);
  out[6] = bpf_core_type_size(kuid_t);
  return 0;
}
SEC("tp_btf/sched_switch") int netns(u64 *ctx) {
  struct sock *sk = (void *)ctx[1];
  out[7] = (u64)BPF_CORE_READ(sk, __sk_common.skc_net.net);
  out[8] = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  return 0;
}
`,
  // 6.18's const members inside anonymous unions (dentry.d_name, file.f_path).
  const_members: `
SEC("tp_btf/sched_switch") int dname(u64 *ctx) {
  struct file *f = (void *)ctx[1];
  out[0] = (u64)BPF_CORE_READ(f, f_path.dentry, d_name.name);
  out[1] = BPF_CORE_READ(f, f_path.dentry, d_name.len);
  out[2] = (u64)BPF_CORE_READ(f, f_path.mnt);
  out[3] = bpf_core_field_size(f->f_path);
  out[4] = bpf_core_field_offset(f->f_path.dentry->d_name.hash_len);
  return 0;
}
`,
  // Arrays of typedef'd structs: fixed (ucounts.ucount, atomic_long_t) and flexible (group_info.gid, kgid_t).
  typedef_arrays: `
SEC("tp_btf/sched_switch") int arrays(u64 *ctx) {
  struct ucounts *u = (void *)ctx[1];
  struct group_info *g = (void *)ctx[2];
  out[0] = BPF_CORE_READ(u, ucount[3].counter);
  out[1] = BPF_CORE_READ(u, rlimit[1].counter);
  out[2] = BPF_CORE_READ(g, gid[5].val);
  out[3] = bpf_core_field_size(u->ucount[2]);
  out[4] = bpf_core_field_offset(g->gid[1].val);
  return 0;
}
`,
  // Local flavors: the local side has the typedefs/const (or drops them) where the kernel differs.
  local_flavors: `
typedef kuid_t uid_alias_t;
typedef const volatile uid_alias_t cv_uid_t;
struct cred___td { cv_uid_t euid; const kgid_t egid; } PAI;
struct cred___bare { struct { unsigned int val; } euid; } PAI;
struct dentry___cu { union { const struct qstr d_name; }; } PAI;
typedef atomic_long_t al_row_t[12];
struct ucounts___ta { al_row_t ucount; } PAI;
typedef const struct { long counter; } c_atomic_t;
struct ucounts___ca { c_atomic_t rlimit[4]; } PAI;

SEC("tp_btf/sched_switch") int flavors(u64 *ctx) {
  struct cred___td *c = (void *)ctx[1];
  struct cred___bare *b = (void *)ctx[1];
  struct dentry___cu *d = (void *)ctx[2];
  struct ucounts___ta *u = (void *)ctx[3];
  struct ucounts___ca *v = (void *)ctx[3];
  out[0] = BPF_CORE_READ(c, euid.val);
  out[1] = BPF_CORE_READ(c, egid.val);
  out[2] = BPF_CORE_READ(b, euid.val);
  out[3] = (u64)BPF_CORE_READ(d, d_name.name);
  out[4] = BPF_CORE_READ(u, ucount[7].counter);
  out[5] = BPF_CORE_READ(v, rlimit[2].counter);
  out[6] = bpf_core_field_size(c->euid);
  out[7] = bpf_core_field_exists(b->euid);
  return 0;
}
`,
};

function open(path: string): ObjectSpec {
  return loadObject(new Uint8Array(readFileSync(path)), { file: path });
}

describe.skipIf(!ready)("CO-RE through typedef'd and const members equals libbpf", () => {
  let objs: string[];
  let runs: LibbpfObject[];
  let vmlinux: Btf;

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-core-typedef-"));
    objs = Object.entries(SOURCES).map(([name, body]) => {
      const src = join(dir, `${name}.bpf.c`);
      writeFileSync(src, PRELUDE + body);
      return compileBpf(src, join(dir, `${name}.o`));
    });
    vmlinux = parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
    runs = runOracle(buildOracle(), objs);
  }, 120_000);

  it("every relocation is patched, with libbpf's specs and values", () => {
    let n = 0;
    objs.forEach((path, i) => {
      const obj = open(path);
      const fixups = objectCoreFixups(obj, vmlinux);
      // All of these exist in the running kernel: none may fail or be poisoned.
      expect(fixups.filter((f) => f.outcome.kind !== "patch").map((f) => `${f.program} #${f.relo}`), path).toEqual([]);
      compareLog(obj, fixups, runs[i]);
      n += fixups.length;
    });
    expect(n).toBeGreaterThanOrEqual(25);
  });

  it("relocated instructions equal what libbpf loads", () => {
    let n = 0;
    objs.forEach((path, i) => {
      const obj = open(path);
      n += compareInsns(obj, objectCoreFixups(obj, vmlinux), runs[i]);
    });
    expect(n).toBeGreaterThanOrEqual(25);
  });
});
