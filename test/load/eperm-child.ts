// Run by eperm.test.ts in a child process stripped of every capability: tries a map create and a
// program load and prints what was thrown, as JSON.

import { BpfMap, Program } from "../../src/load/index.ts";

const out: Record<string, unknown>[] = [];
for (const attempt of [
  () => BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 4, maxEntries: 1 }),
  () => Program.load({ type: "XDP", insns: new Uint8Array([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]), license: "GPL" }),
]) {
  try {
    attempt();
    out.push({ ok: true });
  } catch (e) {
    const x = e as { name: string; code: string; command: string; errnoName: string; hint: string; message: string };
    out.push({ name: x.name, code: x.code, command: x.command, errnoName: x.errnoName, hint: x.hint, message: x.message });
  }
}
console.log(JSON.stringify(out));
