// Words for a fix-up: one line per relocation as `tsbpf core` and `tsbpf inspect` print it, a
// summary, and a JSON-safe form (bigints as decimal strings).

import type { CoreFixup } from "./types.ts";
import { POISON_HELPER_ID } from "./types.ts";

/** The spec text without libbpf's leading `<kind> `. */
function bare(text: string): string {
  return text.replace(/^<[a-z_0-9]+> /, "");
}

/** What happens to the instruction, in a few words. */
export function describeOutcome(f: CoreFixup): string {
  const o = f.outcome;
  switch (o.kind) {
    case "patch": {
      const size = o.memSize ? `, load/store size ${o.memSize.old} -> ${o.memSize.new} bytes` : "";
      return `${o.field} ${o.oldValue} -> ${o.newValue}${o.oldValue === o.newValue && !o.memSize ? " (unchanged)" : ""}${size}`;
    }
    case "poison":
      return `POISONED: ${o.reason}; the instruction becomes 'call 0x${POISON_HELPER_ID.toString(16)}' and, if reachable, the verifier rejects it with 'invalid func unknown#${POISON_HELPER_ID}'`;
    case "error":
      return `FAILS the load: ${o.message}`;
  }
}

/** `prog 'on_fork' relo #0 insn #8 <byte_off> [13] struct task_struct.pid (0:92 @ offset 1264) => [114] … : off 1264 -> 1264`. */
export function formatFixup(f: CoreFixup): string {
  const local = f.local.text || `<${f.kind}> [${f.local.typeId}] ${f.local.type} + ${f.accessStr}`;
  const target = f.target ? bare(f.target.text) : f.kind === "type_id_local" ? "(local type id, no target needed)" : "no match";
  const line = `prog '${f.program}' relo #${f.relo} insn #${f.slot}: ${local} => ${target}: ${describeOutcome(f)}`;
  return f.source ? `${line}\n    at ${f.source.file}:${f.source.line}:${f.source.column}: ${f.source.text.trim()}` : line;
}

export interface FixupSummary {
  total: number;
  patched: number;
  poisoned: number;
  failed: number;
}

export function summarize(fixups: readonly CoreFixup[]): FixupSummary {
  return {
    total: fixups.length,
    patched: fixups.filter((f) => f.outcome.kind === "patch").length,
    poisoned: fixups.filter((f) => f.outcome.kind === "poison").length,
    failed: fixups.filter((f) => f.outcome.kind === "error").length,
  };
}

/** A fix-up as plain JSON data. */
export function fixupJson(f: CoreFixup): unknown {
  return JSON.parse(JSON.stringify(f, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
}
