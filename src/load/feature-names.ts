// The names `tsbpf feature` probes under: program types, map types and helper ids, read from the
// kernel's own enums in its BTF (enum bpf_prog_type, bpf_map_type, bpf_func_id) and merged with our
// tables, so types newer than our tables still show up and ours newer than the kernel show as absent.

import type { Btf } from "../../btf/btf.ts";
import type { BtfEnum } from "../../btf/types.ts";
import { HELPER_NAMES } from "../../asm/helper-names.ts";
import { MAP_TYPE, PROG_TYPE } from "../sys/constants.ts";

/** One enum value as bpftool names it: `xdp` for BPF_PROG_TYPE_XDP, `bpf_redirect` for BPF_FUNC_redirect. */
export interface NamedId {
  id: number;
  name: string;
}

export interface FeatureNames {
  progTypes: NamedId[];
  mapTypes: NamedId[];
  /** Helper ids 1 .. __BPF_FUNC_MAX_ID-1 (0 is BPF_FUNC_unspec, never probed). */
  helpers: NamedId[];
  /** Where the kernel's names came from ("/sys/kernel/btf/vmlinux"), or undefined: our tables only. */
  source: string | undefined;
}

/** `[value, NAME-without-prefix]` pairs of an enum in `btf`, the `__MAX…` sentinel left out. */
function enumEntries(btf: Btf, enumName: string, prefix: string): [number, string][] {
  const t = btf.find(enumName, "enum") as BtfEnum | undefined;
  if (!t) return [];
  return t.values
    .filter((v) => v.name.startsWith(prefix) && !v.name.startsWith("__"))
    .map((v) => [v.value, v.name.slice(prefix.length)]);
}

/**
 * Merge name sources by value. Where one value has two names (the uapi keeps
 * BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED and BPF_MAP_TYPE_CGROUP_STORAGE both = 19), the name
 * without _DEPRECATED wins: it is the one libbpf and bpftool print.
 */
function merge(sources: [number, string][][], lower: boolean, skipZero: boolean): NamedId[] {
  const byId = new Map<number, string>();
  for (const entries of sources) {
    for (const [id, raw] of entries) {
      if (skipZero && id === 0) continue;
      const old = byId.get(id);
      if (old === undefined || (old.endsWith("_DEPRECATED") && !raw.endsWith("_DEPRECATED"))) byId.set(id, raw);
    }
  }
  return [...byId.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([id, raw]) => ({ id, name: lower ? raw.replace(/_DEPRECATED$/, "").toLowerCase() : raw }));
}

/** The highest helper id the kernel knows + 1 (its __BPF_FUNC_MAX_ID), if the BTF says. */
function helperLimit(btf: Btf | undefined): number | undefined {
  const t = btf?.find("bpf_func_id", "enum") as BtfEnum | undefined;
  return t?.values.find((v) => v.name === "__BPF_FUNC_MAX_ID")?.value;
}

/** Names from kernel BTF (when given) and our tables. */
export function featureNames(kernel?: { btf: Btf; source: string }): FeatureNames {
  const btf = kernel?.btf;
  const ours = {
    prog: Object.entries(PROG_TYPE).map(([k, v]): [number, string] => [v, k]),
    map: Object.entries(MAP_TYPE).map(([k, v]): [number, string] => [v, k]),
    func: HELPER_NAMES.map((n, i): [number, string] => [i, n]),
  };
  const kprog = btf ? enumEntries(btf, "bpf_prog_type", "BPF_PROG_TYPE_") : [];
  const kmap = btf ? enumEntries(btf, "bpf_map_type", "BPF_MAP_TYPE_") : [];
  const kfunc = btf ? enumEntries(btf, "bpf_func_id", "BPF_FUNC_") : [];
  // Helper ids beyond the kernel's limit would only ever answer "invalid func": list the kernel's
  // own set when it has one, else our table's.
  const limit = helperLimit(btf);
  const funcs = merge([kfunc, ours.func], false, true).filter((h) => limit === undefined || h.id < limit);
  return {
    progTypes: merge([kprog, ours.prog], true, true),
    mapTypes: merge([kmap, ours.map], true, true),
    helpers: funcs.map((h) => ({ id: h.id, name: `bpf_${h.name}` })),
    source: btf ? kernel?.source : undefined,
  };
}
