// What `tsbpf load` reports and keeps: a verdict per loaded program (from the kernel's info) and
// pinning of the programs under a directory by name, as `bpftool prog loadall OBJ DIR` does.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { slotOffsets } from "../../asm/insn.ts";
import type { Collection } from "./object.ts";
import { progTypeName } from "./object-show.ts";

export interface ProgramVerdict {
  name: string;
  type: string;
  id: number;
  /** Instructions sent to the kernel (ld_imm64 counts two, as the kernel counts). */
  insns: number;
  /** The verifier's processed-instruction count (bpf_prog_info.verified_insns). */
  verified: number;
  tag: string;
  log: string;
}

export function programVerdicts(coll: Collection): ProgramVerdict[] {
  return [...coll.programs].map(([name, p]) => {
    const info = p.info();
    const sent = coll.specs.get(name)?.linked.insns ?? [];
    return { name, type: progTypeName(info.type), id: info.id, insns: slotOffsets(sent)[sent.length], verified: info.verifiedInsns, tag: info.tag, log: p.log };
  });
}

/** Pin every program at DIR/NAME (DIR must be on a bpffs). */
export function pinPrograms(coll: Collection, dir: string): string[] {
  const paths: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const [name, p] of coll.programs) {
    const path = join(dir, name);
    p.pin(path);
    paths.push(path);
  }
  return paths;
}
