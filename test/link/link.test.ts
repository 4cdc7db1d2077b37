// Linked programs against what libbpf sends to the kernel: for every fixture object (and a few
// compiled here), our linked instructions must equal libbpf's BPF_PROG_LOAD instructions, except
// that map references carry map indices (MAP_IDX / MAP_IDX_VALUE) where libbpf puts fds; the
// fd is translated back to the map's name for the comparison. Map attributes are compared with
// libbpf's BPF_MAP_CREATE calls. Objects with CO-RE relocations get btf/core's fix-ups first.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { PSEUDO, encode } from "../../asm/index.ts";
import { applyObjectCore, objectCoreFixups } from "../../btf/core/index.ts";
import { parseBtfExt } from "../../btf/index.ts";
import { loadObject, type ObjectSpec } from "../../src/elf/index.ts";
import { linkProgram, resolveKconfig, runningKernel } from "../../src/link/index.ts";
import { structOpsLayout } from "../../src/load/struct-ops-layout.ts";
import { haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";
import { compileC, fixtureObjects } from "../elf/objects.ts";
import { buildTracer, traceObjects } from "./oracle.ts";

const SOURCES = {
  calls: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, int); __type(value, long); } arr SEC(".maps");
int g = 3; const volatile int ro = 5; int z; static int sv = 7;
static __noinline int leaf(int x) { return x + g + sv; }
static __noinline int mid(int x) { return leaf(x) * ro; }
__noinline int glob(int x) { return mid(x) + 1; }
static long cb(void *map, int *key, long *val, void *ctx) { *val += 1; return 0; }
SEC("xdp") int a_prog(struct xdp_md *ctx) { z++; bpf_for_each_map_elem(&arr, cb, 0, 0); return glob(ctx->ingress_ifindex) & 3; }
SEC("tc") int b_prog(struct __sk_buff *skb) { return leaf(skb->len) + mid(1); }
SEC("socket") int c_prog(void *ctx) { return mid(2) + glob(3); }
char LICENSE[] SEC("license") = "GPL";
`,
  externs: `
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
extern const void _stext __ksym;
extern int LINUX_KERNEL_VERSION __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern char CONFIG_LSM[64] __kconfig __weak;
extern unsigned long CONFIG_HZ __kconfig __weak;
extern bool CONFIG_NOT_A_THING __kconfig __weak;
extern unsigned short CONFIG_NR_CPUS __kconfig __weak;
SEC("socket") int ext_prog(void *ctx) {
  long a = (long)&_stext;
  return LINUX_KERNEL_VERSION + CONFIG_BPF_JIT + CONFIG_BPF_SYSCALL + CONFIG_LSM[1] + CONFIG_HZ + CONFIG_NOT_A_THING + CONFIG_NR_CPUS + (a & 1);
}
char LICENSE[] SEC("license") = "GPL";
`,
  virtuals: `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
SEC("socket") int virt_prog(void *ctx) {
  return (LINUX_HAS_SYSCALL_WRAPPER ? 100 : 200) + LINUX_HAS_BPF_COOKIE + (LINUX_KERNEL_VERSION & 1);
}
char LICENSE[] SEC("license") = "GPL";
`,
  weak: `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) (!!(sym))
#endif
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern int bpf_no_such_kfunc_here(int x) __ksym __weak;
extern const int bpf_no_such_var_here __ksym __weak;
SEC("tp_btf/task_newtask") int weak_kf(u64 *ctx) {
  struct task_struct *t = bpf_task_acquire((struct task_struct *)ctx[0]);
  int r = 0;
  if (bpf_ksym_exists(bpf_no_such_kfunc_here)) r = bpf_no_such_kfunc_here(1);
  if (&bpf_no_such_var_here) r += 1;
  if (bpf_ksym_exists(bpf_task_release)) r += 2;
  if (t) bpf_task_release(t);
  return r;
}
char LICENSE[] SEC("license") = "GPL";
`,
  weak_incompat: `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern int bpf_cgroup_release(int a, int b, int c) __ksym __weak;
SEC("tp_btf/task_newtask") int weak_bad(u64 *ctx) {
  struct task_struct *t = bpf_task_acquire((struct task_struct *)ctx[0]);
  int r = 0;
  if (ctx[1] == 12345) r = bpf_cgroup_release(1, 2, 3);
  if (t) bpf_task_release(t);
  return r;
}
char LICENSE[] SEC("license") = "GPL";
`,
  strong_incompat: `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
extern int bpf_task_release(int x) __ksym;
SEC("tp_btf/task_newtask") int strong_bad(u64 *ctx) { return bpf_task_release(1); }
char LICENSE[] SEC("license") = "GPL";
`,
};

/** CO-RE relocation count from the .BTF.ext header (0 when there is none). */
function coreRelos(obj: ObjectSpec): number {
  const e = obj.btfExt;
  if (!e || e.bytes.length < 32) return 0;
  const dv = new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
  return dv.getUint32(4, true) >= 32 ? dv.getUint32(28, true) : 0;
}

describe.skipIf(!haveRoot() || !haveTool("clang-19") || !haveKernelBtf())("link vs libbpf BPF_PROG_LOAD", () => {
  const exe = buildTracer();
  const objects = [...fixtureObjects(), ...Object.values(compileC(SOURCES))];
  const traced = traceObjects(exe, objects);
  const kernel = runningKernel();
  let compared = 0;
  let values = 0;
  let infos = 0;
  let slotsChecked = 0;

  test.each(traced.map((t) => [t.path.replace(/.*\//, ""), t] as const))("%s", (_n, t) => {
    let obj: ObjectSpec;
    try {
      obj = loadObject(readFileSync(t.path), { file: t.path });
    } catch (e) {
      // Objects libbpf refuses must be refused by us too (with a typed error).
      expect(t.progs.filter((p) => p.name !== "" && !p.name.startsWith("libbpf_")).length).toBe(0);
      expect((e as { code?: string }).code).toBeTypeOf("string");
      return;
    }
    // Maps: every map libbpf created under a name we define has our attributes and initial value.
    resolveKconfig(obj);
    for (const m of obj.maps) {
      const lm = t.maps.find((x) => x.name === m.name.slice(0, 15));
      if (!lm) continue;
      // A struct_ops map is created with the kernel wrapper's size, known only against kernel BTF.
      const valueSize = m.structOps && obj.btf ? structOpsLayout(m, obj.btf, kernel.btf!).valueSize : m.valueSize;
      expect({ name: m.name.slice(0, 15), type: m.type, key: m.keySize, value: valueSize, max: m.maxEntries, flags: m.flags }).toEqual({
        name: lm.name, type: lm.type, key: lm.keySize, value: lm.valueSize,
        // libbpf sizes ring buffers and perf arrays at create time (page size / CPU count).
        max: m.maxEntries === 0 || m.type === 27 ? m.maxEntries : lm.maxEntries,
        flags: lm.flags,
      });
      if (m.data && lm.initial) values++;
      if (m.data && lm.initial) expect(Buffer.from(m.data).toString("hex")).toBe(Buffer.from(lm.initial).toString("hex"));
    }
    // CO-RE (another module) is applied to the ObjectSpec before linking, as libbpf does; then
    // every instruction must match.
    // values[] initialisers: libbpf writes slot → fd of the named map or program after loading.
    for (const m of obj.maps.filter((x) => x.initSlots.length > 0)) {
      if (t.load !== 0) break;
      const fdName = (fd: number) => t.mapFds.get(fd) ?? t.progs.filter((p) => p.fd === fd).at(-1)?.name;
      const written = t.updates.filter((u) => u.map?.name === m.name.slice(0, 15)).map((u) => ({
        slot: new DataView(u.key.buffer, u.key.byteOffset).getUint32(0, true),
        name: fdName(new DataView(u.value.buffer, u.value.byteOffset).getInt32(0, true)),
      }));
      expect(written.sort((a, b) => a.slot - b.slot)).toEqual(m.initSlots.map((x) => ({ slot: x.slot, name: x.name.slice(0, 15) })).sort((a, b) => a.slot - b.slot));
      slotsChecked++;
    }
    const core = coreRelos(obj) > 0;
    if (core) obj = applyObjectCore(obj, objectCoreFixups(obj, kernel.btf!));
    // Names are cut to 15 characters in PROG_LOAD: programs sharing a prefix are paired in order.
    const seen = new Map<string, number>();
    for (const p of obj.programs) {
      const short = p.name.slice(0, 15);
      const k = seen.get(short) ?? 0;
      seen.set(short, k + 1);
      const lp = t.progs.filter((x) => x.name === short && x.name !== "")[k];
      if (!lp) continue;
      let linked;
      try {
        linked = linkProgram(obj, p, { kernel, ...(obj.btf && obj.btfExt ? { ext: parseBtfExt(obj.btfExt.bytes, obj.btf) } : {}) });
      } catch (e) {
        if (t.load !== 0) continue; // libbpf failed the object too
        throw e;
      }
      expect({ type: p.type, attach: p.expectedAttachType, flags: p.progFlags, license: p.license }).toEqual({ type: lp.type, attach: lp.attach, flags: lp.flags, license: lp.license });
      const ours = encode(linked.insns);
      expect(ours.length).toBe(lp.insns.length);
      // bpf_map__name() gives the full name, MAP_CREATE the kernel's 15-character one: key by both.
      const mapIdxByName = new Map(obj.maps.flatMap((m, i) => [[m.name.slice(0, 15), i], [m.name, i]] as const));
      // An unresolved __weak kfunc call: libbpf ≥ 1.2 (our model) poisons it as a call to helper
      // 2002000000 + extern index; the installed libbpf 1.1 sends a kfunc call with imm 0. Both are
      // dead code the verifier never reaches; each side is checked for its own form.
      const poisoned = new Map(linked.fixups.filter((f) => f.what === "kfunc_poison").map((f) => [f.insn, f] as const));
      const touched = new Set(linked.fixups.filter((f) => f.what === "map" || f.what === "map_value" || f.what === "kconfig").map((f) => f.insn));
      const slotOfInsn: number[] = [];
      let s = 0;
      for (const insn of linked.insns) { slotOfInsn.push(s); s += insn.op === 0x18 ? 2 : 1; }
      let diff = 0;
      linked.insns.forEach((insn, i) => {
        const at = slotOfInsn[i] * 8;
        const theirs = lp.insns.subarray(at, at + (insn.op === 0x18 ? 16 : 8));
        const mine = ours.subarray(at, at + theirs.length);
        if (poisoned.has(i)) {
          const ext = obj.externs.findIndex((e) => e.name === poisoned.get(i)!.target);
          expect([insn.op, insn.src, insn.dst, insn.off, insn.imm]).toEqual([0x85, 0, 0, 0, 2002000000 + ext]);
          expect([...theirs]).toEqual([0x85, 0x20, 0, 0, 0, 0, 0, 0]);
        } else if (touched.has(i)) {
          const src = theirs[1] >> 4;
          const fd = new DataView(theirs.buffer, theirs.byteOffset).getInt32(4, true);
          // After a failed load libbpf has closed the maps: fall back to the MAP_CREATE that returned this fd.
          const name = t.mapFds.get(fd) ?? t.maps.filter((m) => m.fd === fd).at(-1)?.name;
          expect(insn.src).toBe(src === PSEUDO.MAP_FD ? PSEUDO.MAP_IDX : PSEUDO.MAP_IDX_VALUE);
          expect(name !== undefined ? mapIdxByName.get(name) : undefined).toBe(insn.imm);
          expect([...mine.subarray(8)]).toEqual([...theirs.subarray(8)]);
          expect([mine[0], mine[1] & 0x0f, mine[2], mine[3]]).toEqual([theirs[0], theirs[1] & 0x0f, theirs[2], theirs[3]]);
        } else if (!Buffer.from(mine).equals(Buffer.from(theirs))) {
          diff++;
          expect(`${p.name} insn ${i}: ${Buffer.from(mine).toString("hex")}`).toBe(`${p.name} insn ${i}: ${Buffer.from(theirs).toString("hex")}`);
        }
      });
      expect(diff).toBe(0);
      // BTF func_info / line_info moved with the subprograms, as libbpf sends them.
      if (lp.funcInfo.length > 0) {
        expect(linked.funcInfo.map((f) => [f.insn, f.typeId])).toEqual(lp.funcInfo);
        expect(linked.lineInfo.map((l) => [l.insn, l.fileNameOff, l.lineOff, (l.lineNum << 10) | l.column])).toEqual(lp.lineInfo);
        infos++;
      }
      compared++;
    }
  });

  test("a kfunc declared with the wrong prototype: libbpf refuses the object, we refuse the link", () => {
    const t = traced.find((x) => x.path.endsWith("/strong_incompat.o"))!;
    expect(t.load).toBeLessThan(0);
    const obj = loadObject(readFileSync(t.path), { file: t.path });
    expect(() => linkProgram(obj, obj.programs[0], { kernel })).toThrow(/incompatible/);
  });

  test("compared a meaningful number of programs", () => {
    expect(compared).toBeGreaterThan(20);
    expect(values).toBeGreaterThan(5);
    expect(infos).toBeGreaterThan(20);
    expect(slotsChecked).toBeGreaterThanOrEqual(2);
  });
});
