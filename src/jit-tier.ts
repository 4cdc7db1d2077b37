// A JIT hint for the hot loops of one-shot commands under Bun. JavaScriptCore's top tier (FTL)
// spends longer compiling a large method than one run of the CLI then spends in it, and its code
// ran no faster here than the DFG tier's (C dump of vmlinux: 305-371 ms CPU with FTL, 202-216 ms
// without). Functions given here stay in the DFG tier. Elsewhere (Node, no bun:jsc) nothing happens.

type Fn = (...args: never[]) => unknown;
interface Jsc {
  noFTL(f: Fn): void;
}

function jsc(): Jsc | undefined {
  try {
    const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const m = typeof Bun !== "undefined" && get ? (get("bun:jsc") as Partial<Jsc> | undefined) : undefined;
    return typeof m?.noFTL === "function" ? (m as Jsc) : undefined;
  } catch {
    return undefined;
  }
}

/** Keep the methods of these classes, and these functions, out of the FTL tier. */
export function belowTopTier(classes: readonly { prototype: object }[], fns: readonly Fn[]): void {
  const j = jsc();
  if (!j) return;
  for (const c of classes) {
    for (const key of Object.getOwnPropertyNames(c.prototype)) {
      const d = Object.getOwnPropertyDescriptor(c.prototype, key);
      if (typeof d?.value === "function") j.noFTL(d.value as Fn);
      if (d?.get) j.noFTL(d.get as Fn);
    }
  }
  for (const f of fns) j.noFTL(f);
}
