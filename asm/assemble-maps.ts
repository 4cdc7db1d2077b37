// The `.map` directive: map types by name (enum bpf_map_type, include/uapi/linux/bpf.h of Linux
// 6.18) and the key=value options, turned into the __uint(...) fields of a BTF-defined map.

import type { DirectiveArg } from "./parse.ts";
import { parseIntLiteral } from "./lexer.ts";

/** enum bpf_map_type, without the BPF_MAP_TYPE_ prefix, lower case. */
export const MAP_TYPES: Record<string, number> = {
  unspec: 0, hash: 1, array: 2, prog_array: 3, perf_event_array: 4, percpu_hash: 5, percpu_array: 6,
  stack_trace: 7, cgroup_array: 8, lru_hash: 9, lru_percpu_hash: 10, lpm_trie: 11, array_of_maps: 12,
  hash_of_maps: 13, devmap: 14, sockmap: 15, cpumap: 16, xskmap: 17, sockhash: 18, cgroup_storage: 19,
  reuseport_sockarray: 20, percpu_cgroup_storage: 21, queue: 22, stack: 23, sk_storage: 24,
  devmap_hash: 25, struct_ops: 26, ringbuf: 27, inode_storage: 28, task_storage: 29, bloom_filter: 30,
  user_ringbuf: 31, cgrp_storage: 32, arena: 33,
};

/** libbpf's enum libbpf_pin_type. */
const PINNING: Record<string, number> = { none: 0, by_name: 1 };

/** Option names accepted after the map name, with the BTF member each becomes (bpf_helpers.h names). */
const OPTIONS: Record<string, string> = {
  type: "type", key: "key_size", key_size: "key_size", value: "value_size", value_size: "value_size",
  max_entries: "max_entries", entries: "max_entries", flags: "map_flags", map_flags: "map_flags",
  pinning: "pinning", numa_node: "numa_node", map_extra: "map_extra",
};
const ORDER = ["type", "key_size", "value_size", "max_entries", "map_flags", "numa_node", "map_extra", "pinning"];

export interface MapDirective {
  name: string;
  fields: [string, number][];
}

/** Problems come back as [message, column] for the caller to raise with its position. */
export function parseMapDirective(args: readonly DirectiveArg[]): MapDirective | { error: string; column: number } {
  if (args.length === 0 || args[0].tokens.length !== 1 || args[0].tokens[0].kind !== "id") {
    return { error: "expected a map name: .map NAME, type=hash, key=4, value=8, max_entries=1024", column: args[0]?.column ?? 1 };
  }
  const name = args[0].text;
  const got = new Map<string, number>();
  for (const a of args.slice(1)) {
    const m = /^([A-Za-z_]+)\s*=\s*(.+)$/.exec(a.text);
    if (!m) return { error: `expected key=value, found '${a.text}'`, column: a.column };
    const field = OPTIONS[m[1]];
    if (!field) return { error: `unknown map option '${m[1]}' (known: ${Object.keys(OPTIONS).join(", ")})`, column: a.column };
    if (got.has(field)) return { error: `map option '${m[1]}' given twice`, column: a.column };
    let v: number | undefined;
    const raw = m[2].trim();
    if (field === "type") v = MAP_TYPES[raw.replace(/^BPF_MAP_TYPE_/i, "").toLowerCase()];
    else if (field === "pinning") v = PINNING[raw.replace(/^LIBBPF_PIN_/i, "").toLowerCase()];
    if (v === undefined) {
      const n = parseIntLiteral(raw);
      if (n !== undefined && n <= 0xffffffffn) v = Number(n);
    }
    if (v === undefined) {
      const known = field === "type" ? ` (known: ${Object.keys(MAP_TYPES).join(", ")})` : field === "pinning" ? " (none or by_name)" : "";
      return { error: `bad value '${raw}' for map option '${m[1]}'${known}`, column: a.column };
    }
    got.set(field, v);
  }
  if (!got.has("type")) return { error: `map '${name}' needs type=…`, column: args[0].column };
  const fields = ORDER.filter((f) => got.has(f)).map((f): [string, number] => [f, got.get(f)!]);
  return { name, fields };
}
