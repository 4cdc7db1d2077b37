// Candidate search: the target types a local type may correspond to — same kind (enum and enum64
// count as one), non-empty name, and the same essential name once `___flavor` suffixes are cut.
// The target's names are indexed once per Btf, so a whole object resolves in one pass.

import type { Btf } from "../btf.ts";
import { essentialName, kindsCompat } from "./walk.ts";

const indexes = new WeakMap<Btf, Map<string, number[]>>();

/** Every named type of `btf` (base included) by essential name, ids ascending. */
function essentialIndex(btf: Btf): Map<string, number[]> {
  let idx = indexes.get(btf);
  if (idx) return idx;
  idx = new Map();
  for (let id = 1; id < btf.typeCount; id++) {
    const n = btf.nameOf(id);
    if (n === "") continue;
    const e = essentialName(n);
    const l = idx.get(e);
    if (l) l.push(id);
    else idx.set(e, [id]);
  }
  indexes.set(btf, idx);
  return idx;
}

/** Target ids that are candidates for local type `localId` (libbpf's bpf_core_add_cands, in id order). */
export function findCandidates(local: Btf, localId: number, target: Btf): number[] {
  const lt = local.type(localId);
  const ids = essentialIndex(target).get(essentialName(lt.name)) ?? [];
  return ids.filter((id) => kindsCompat(target.type(id), lt));
}
