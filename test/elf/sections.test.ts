// Section-name classification against the system libbpf's libbpf_prog_type_by_name(): every
// convention in our table, as an exact name, with a target, and with near-miss spellings.
// Names the installed libbpf (older than our table's source) does not know are counted, not compared.

import { describe, expect, test } from "vitest";
import { SECTION_DEFS, classifySection } from "../../src/elf/index.ts";
import { haveTool } from "../support/env.ts";
import { buildTracer, libbpfSectionTypes } from "../link/oracle.ts";

function examples(): string[] {
  const names = new Set<string>();
  for (const [pattern] of SECTION_DEFS) {
    const stem = pattern.replace(/[+/]$/, "");
    names.add(stem);
    names.add(`${stem}/some_target`);
    names.add(`${stem}/cat/name`);
    names.add(`${stem}x`);
    names.add(`${stem}.s`);
    names.add(`${stem}/`);
  }
  for (const n of ["", "/", "x", "sec", "kprobe.multi/do_*", "uprobe//bin/sh:readline", "tp/syscalls/sys_enter_write", "xdp.frags/devmap", "struct_ops/init"]) names.add(n);
  return [...names].filter((n) => n !== "");
}

describe.skipIf(!haveTool("clang-19"))("section names vs libbpf_prog_type_by_name", () => {
  const names = examples();
  const theirs = libbpfSectionTypes(buildTracer(), names);

  test("libbpf answered for every name", () => {
    expect(theirs.size).toBe(names.length);
  });

  test("every name libbpf recognises gets the same program and attach type", () => {
    let compared = 0;
    const mismatches: string[] = [];
    for (const n of names) {
      const t = theirs.get(n);
      if (!t) continue;
      const ours = classifySection(n);
      compared++;
      if (!ours.def || ours.progType !== t.type || ours.expectedAttachType !== t.attach) {
        mismatches.push(`${n}: ours ${ours.def ? `${ours.progType}/${ours.expectedAttachType}` : "unknown"}, libbpf ${t.type}/${t.attach}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(150);
  });

  test("attach targets are the text after the matched prefix", () => {
    expect(classifySection("tp/syscalls/sys_enter_write").attachTo).toBe("syscalls/sys_enter_write");
    expect(classifySection("fentry.s/do_unlinkat").attachTo).toBe("do_unlinkat");
    expect(classifySection("?xdp").autoload).toBe(false);
  });
});
