// ObjectSpec against libbpf's view of the same object (bpf_object__open_file, then its program
// and map iterators): program names, sections, autoload, program and attach types, instruction
// counts and order; map names and order. Objects libbpf refuses to open we must refuse too.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { loadObject } from "../../src/elf/index.ts";
import { TsbpfError } from "../../src/errors.ts";
import { haveTool } from "../support/env.ts";
import { buildTracer, libbpfSectionTypes, traceObjects } from "../link/oracle.ts";
import { compileC, fixtureObjects } from "./objects.ts";

const SOURCES = {
  sections: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("?xdp") int opt_out(void *ctx) { return 2; }
SEC("kprobe/do_sys_open") int kp(void *ctx) { return 0; }
SEC("kretprobe/do_sys_open") int krp(void *ctx) { return 0; }
SEC("uprobe.s//bin/sh:main") int up(void *ctx) { return 0; }
SEC("cgroup/connect4") int c4(void *ctx) { return 1; }
SEC("cgroup/getsockopt") int gso(void *ctx) { return 1; }
SEC("sk_lookup") int skl(void *ctx) { return 0; }
SEC("flow_dissector") int fd(void *ctx) { return 0; }
SEC("lwt_xmit") int lx(void *ctx) { return 0; }
SEC("raw_tp.w/sched_switch") int rw(void *ctx) { return 0; }
SEC("perf_event") int pe(void *ctx) { return 0; }
SEC("cgroup/sysctl") int sy(void *ctx) { return 1; }
SEC("xdp") int two_a(void *ctx) { return 2; }
SEC("xdp") int two_b(void *ctx) { return 1; }
SEC("weird_section_name") int unknown_sec(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "Dual BSD/GPL";
`,
  a_very_long_object_name_for_maps: `
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
int d1 = 1; int b1; const volatile int r1 = 2;
int d2 SEC(".data.something_long_name") = 3;
const volatile char r2[3] SEC(".rodata.x") = "hi";
static int hidden_counter SEC(".data.hidden") = 9;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
SEC("socket") int s(void *ctx) { hidden_counter++; return d1 + b1 + r1 + d2 + r2[0] + CONFIG_BPF_SYSCALL; }
char LICENSE[] SEC("license") = "GPL";
`,
  legacy_version: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
unsigned int ver SEC("version") = 0x060c00;
SEC("socket") int s(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`,
};

describe.skipIf(!haveTool("clang-19"))("ObjectSpec vs libbpf's open", () => {
  const objects = [...fixtureObjects(), ...Object.values(compileC(SOURCES))];
  const exe = buildTracer();
  const traced = traceObjects(exe, objects);
  // Conventions newer than the installed libbpf (it reports them as UNSPEC): compared with our table's
  // source instead, i.e. not compared here; test/elf/sections.test.ts lists them.
  const known = libbpfSectionTypes(exe, [...new Set(traced.flatMap((t) => t.defs.map((d) => d.section)))]);
  let programs = 0;

  test.each(traced.map((t) => [t.path.replace(/.*\//, ""), t] as const))("%s", (_n, t) => {
    const opened = t.defs.length > 0 || t.mapDefs.length > 0 || t.load !== undefined;
    let obj;
    try {
      obj = loadObject(readFileSync(t.path), { file: t.path });
    } catch (e) {
      expect(e).toBeInstanceOf(TsbpfError);
      expect(t.defs.length).toBe(0);
      return;
    }
    expect(opened).toBe(true);
    expect(obj.programs.map((p) => ({ name: p.name, section: p.section, autoload: p.autoload, type: p.type, attach: p.expectedAttachType, insns: p.insns.reduce((n, i) => n + (i.op === 0x18 ? 2 : 1), 0) }))).toEqual(
      t.defs.map((d) => {
        const ours = obj.programs.find((p) => p.name === d.name);
        const newer = !known.get(d.section) && d.type === 0 && ours !== undefined;
        return { name: d.name, section: d.section, autoload: d.autoload, type: newer ? ours.type : d.type, attach: newer ? ours.expectedAttachType : d.attach, insns: d.insnCount };
      }),
    );
    // libbpf 1.1 keeps a custom data section's full name until map creation; newer libbpf (our
    // model) truncates it to the kernel's 15 characters at open. The kernel sees the same name.
    expect(obj.maps.map((m) => m.name.slice(0, 15))).toEqual(t.mapDefs.map((n) => n.slice(0, 15)));
    programs += obj.programs.length;
  });

  test("compared programs", () => {
    expect(programs).toBeGreaterThan(60);
  });
});
