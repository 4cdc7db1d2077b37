// Candidate search: the target types a local type may correspond to — same kind (enum and enum64
// count as one), non-empty name, and the same essential name once `___flavor` suffixes are cut.
// Kernel BTF has ~127k types: rather than decoding every name, we find the string offsets that
// read as the essential name (or a flavor of it) with a byte search and compare the raw name
// words of the type records against them. Results are cached per target and name.

import type { Btf } from "../btf.ts";
import { essentialName, kindsCompat } from "./walk.ts";

interface TargetIndex {
  /** Essential name → string offsets of flavored names (`x___y`) that cut to it. */
  flavored: Map<string, number[]>;
  /** Essential name → type ids (own types only; the base has its own index). */
  byName: Map<string, number[]>;
}

const indexes = new WeakMap<Btf, TargetIndex>();
const UNDERSCORES = new Uint8Array([0x5f, 0x5f, 0x5f]);

/** Every string offset of this table whose string (or string tail) has a flavor suffix. */
function flavoredOffsets(btf: Btf): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const own = btf.strings.bytes;
  const start = btf.strings.start;
  const hay = Buffer.from(own.buffer, own.byteOffset, own.byteLength);
  const dec = new TextDecoder();
  let lastString = -1;
  for (let hit = hay.indexOf(UNDERSCORES); hit >= 0; hit = hay.indexOf(UNDERSCORES, hit + 1)) {
    let s = hit;
    while (s > 0 && own[s - 1] !== 0) s--;
    if (s === lastString) continue;
    lastString = s;
    let e = hit;
    while (e < own.length && own[e] !== 0) e++;
    const str = dec.decode(own.subarray(s, e));
    // Any tail of the string may be a type's name; the ones that carry a flavor are indexed here.
    for (let k = 0; k < str.length; k++) {
      const tail = str.slice(k);
      const ess = essentialName(tail);
      if (ess === tail) continue;
      const l = out.get(ess);
      const off = start + new TextEncoder().encode(str.slice(0, k)).length + s;
      if (l) l.push(off);
      else out.set(ess, [off]);
    }
  }
  return out;
}

function indexOf(btf: Btf): TargetIndex {
  let idx = indexes.get(btf);
  if (!idx) {
    idx = { flavored: flavoredOffsets(btf), byName: new Map() };
    indexes.set(btf, idx);
  }
  return idx;
}

/** Flavored-name offsets for `ess` in this BTF's strings and its base's (split types may name base strings). */
function flavoredFor(btf: Btf, ess: string): number[] {
  const own = indexOf(btf).flavored.get(ess) ?? [];
  return btf.base ? [...flavoredFor(btf.base, ess), ...own] : own;
}

/** Ids of this BTF's own types (base excluded) whose name's essential part is `ess`, ascending. */
function ownIdsWithEssentialName(btf: Btf, ess: string): number[] {
  const idx = indexOf(btf);
  let own = idx.byName.get(ess);
  if (!own) {
    own = [];
    const raw = btf.rawTypes();
    if (raw) {
      const offs = new Set<number>([...btf.strings.offsetsOf(ess), ...flavoredFor(btf, ess)]);
      offs.delete(0);
      const n = raw.offsets.length - 1;
      for (let i = 0; i < n; i++) if (offs.has(raw.words[raw.offsets[i]])) own.push(btf.firstId + i);
    } else {
      for (let id = btf.firstId; id < btf.typeCount; id++) {
        const name = btf.nameOf(id);
        if (name !== "" && essentialName(name) === ess) own.push(id);
      }
    }
    idx.byName.set(ess, own);
  }
  return own;
}

/**
 * Target ids that are candidates for local type `localId` (libbpf's bpf_core_add_cands, in id
 * order). For split BTF (a module over vmlinux) the base is searched first and the split part
 * only when the base has none, as libbpf looks at module BTF only when vmlinux has no candidate.
 */
export function findCandidates(local: Btf, localId: number, target: Btf): number[] {
  const lt = local.type(localId);
  if (lt.name === "") return [];
  if (target.base) {
    const fromBase = findCandidates(local, localId, target.base);
    if (fromBase.length > 0) return fromBase;
  }
  return ownIdsWithEssentialName(target, essentialName(lt.name)).filter((id) => kindsCompat(target.type(id), lt));
}
