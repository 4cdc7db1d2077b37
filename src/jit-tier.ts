// A JIT hint for the hot loops of one-shot commands under Bun. JavaScriptCore's top tier (FTL)
// spends longer compiling a large method than one run of the CLI then spends in it, and its code
// ran no faster here than the DFG tier's (C dump of vmlinux: 305-371 ms CPU with FTL, 202-216 ms
// without). Modules register their hot functions; a caller about to do a large job applies the
// hint (a small job never gets near the FTL, and skips the ~2 ms of applying it). Elsewhere (Node,
// no bun:jsc) nothing happens.

type Fn = (...args: never[]) => unknown;
interface Jsc {
  noFTL(f: Fn): void;
}

/** Registered and not yet hinted (looked into only when a large job comes). */
const pendingClasses: { prototype: object }[] = [];
const pendingFns: Fn[] = [];

function jsc(): Jsc | undefined {
  try {
    const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const m = typeof Bun !== "undefined" && get ? (get("bun:jsc") as Partial<Jsc> | undefined) : undefined;
    return typeof m?.noFTL === "function" ? (m as Jsc) : undefined;
  } catch {
    return undefined;
  }
}

/** Register the methods of these classes, and these functions, to be kept out of the FTL tier. */
export function belowTopTier(classes: readonly { prototype: object }[], fns: readonly Fn[]): void {
  pendingClasses.push(...classes);
  pendingFns.push(...fns);
}

/** A large job is about to run: keep every registered function out of the FTL tier from now on. */
export function largeJob(): void {
  if (pendingClasses.length === 0 && pendingFns.length === 0) return;
  const j = jsc();
  const fns = pendingFns.splice(0);
  for (const c of pendingClasses.splice(0)) {
    for (const key of Object.getOwnPropertyNames(c.prototype)) {
      const d = Object.getOwnPropertyDescriptor(c.prototype, key);
      if (typeof d?.value === "function") fns.push(d.value as Fn);
      if (d?.get) fns.push(d.get as Fn);
    }
  }
  if (j) for (const f of fns) j.noFTL(f);
}
