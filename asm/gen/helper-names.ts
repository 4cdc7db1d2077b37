// Regenerates asm/helper-names.ts from the running kernel's BTF: the members of enum bpf_func_id
// in /sys/kernel/btf/vmlinux, as `bpftool btf dump file … format c` prints them.
// Run: bun asm/gen/helper-names.ts [path/to/vmlinux-btf]

import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const btf = process.argv[2] ?? "/sys/kernel/btf/vmlinux";
const r = spawnSync("bpftool", ["btf", "dump", "file", btf, "format", "c"], { encoding: "utf8", maxBuffer: 1 << 30 });
if (r.status !== 0) {
  process.stderr.write(`bpftool btf dump failed: ${r.stderr}\n`);
  process.exit(1);
}
const enumStart = r.stdout.indexOf("enum bpf_func_id {");
if (enumStart < 0) {
  process.stderr.write("enum bpf_func_id not found in the BTF dump\n");
  process.exit(1);
}
const body = r.stdout.slice(enumStart, r.stdout.indexOf("};", enumStart));
const names: string[] = [];
for (const m of body.matchAll(/^\s+BPF_FUNC_(\w+) = (\d+),$/gm)) names[Number(m[2])] = m[1];
const max = /__BPF_FUNC_MAX_ID = (\d+)/.exec(body);
if (!max || names.length !== Number(max[1]) || names.some((n) => n === undefined)) {
  process.stderr.write("enum bpf_func_id is not dense 0..__BPF_FUNC_MAX_ID-1\n");
  process.exit(1);
}
const uname = spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim();
const rows: string[] = [];
for (let i = 0; i < names.length; i += 4) rows.push("  " + names.slice(i, i + 4).map((n) => JSON.stringify(n)).join(", ") + ",");
const out = `// Helper function ids → names: enum bpf_func_id (BPF_FUNC_<name> = id) of Linux ${uname}, read from
// the kernel's BTF (${btf}) by asm/gen/helper-names.ts. Generated data: regenerate, don't edit.
// The kernel prints helper calls as "call bpf_<name>#<id>" (kernel/bpf/disasm.c, func_id_str).

/** HELPER_NAMES[id] is the name after BPF_FUNC_ (e.g. 1 → "map_lookup_elem"). */
export const HELPER_NAMES: readonly string[] = [
${rows.join("\n")}
];

/** __BPF_FUNC_MAX_ID of that kernel: helper ids are 0 .. HELPER_COUNT-1. */
export const HELPER_COUNT = ${names.length};

const BY_NAME = new Map(HELPER_NAMES.map((n, i) => [n, i]));

/** The helper's name as the kernel prints it ("bpf_map_lookup_elem"), or undefined for an unknown id. */
export function helperName(id: number): string | undefined {
  const n = HELPER_NAMES[id];
  return n === undefined ? undefined : "bpf_" + n;
}

/** A helper's id from its name, with or without the "bpf_" prefix. */
export function helperId(name: string): number | undefined {
  return BY_NAME.get(name) ?? (name.startsWith("bpf_") ? BY_NAME.get(name.slice(4)) : undefined);
}
`;
const target = new URL("../helper-names.ts", import.meta.url).pathname;
writeFileSync(target, out);
process.stdout.write(`wrote ${target}: ${names.length} helpers\n`);
