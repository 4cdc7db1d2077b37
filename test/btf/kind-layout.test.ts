// BTF with a 32-byte header and a kind-layout section (layout_off/layout_len, written by newer
// libbpf and pahole; cilium/ebpf ships such a vmlinux.btf). Blobs are built here from a fixture's
// .BTF with the layout section placed before, between or after the others; bpftool 7.1 dumps them,
// and our dump must equal its dump; encode∘parse gives the same bytes back; bad offsets are typed errors.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { encodeBtf } from "../../btf/encode.ts";
import { findBtf } from "../../btf/file.ts";
import { parseBtf } from "../../btf/parse.ts";
import { ROOT, haveBun, haveTool, run } from "../support/env.ts";

const raw = findBtf(readFileSync(join(ROOT, "fixtures/obj/maps_basic.o"))).btf.bytes;
const rd = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
const types = raw.subarray(24 + rd.getUint32(8, true), 24 + rd.getUint32(8, true) + rd.getUint32(12, true));
const strings = raw.subarray(24 + rd.getUint32(16, true), 24 + rd.getUint32(16, true) + rd.getUint32(20, true));
// 20 kinds × {flags, info size, element size, pad}: the section's content is opaque to a dumper.
const layout = Uint8Array.from({ length: 80 }, (_, i) => (i % 4 === 1 ? 4 : i % 4 === 2 ? (i >> 2) % 3 * 4 : 0));

/** A 32-byte-header blob with its three sections in `order`. */
function blob(order: ("t" | "s" | "l")[], opts: { gap?: number } = {}): Uint8Array {
  const part = { t: types, s: strings, l: layout };
  const at = { t: 0, s: 0, l: 0 };
  let p = 0;
  for (const k of order) { at[k] = p; p += part[k].length + (k === order[0] ? opts.gap ?? 0 : 0); }
  const out = new Uint8Array(32 + p);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xeb9f, true); dv.setUint8(2, 1); dv.setUint32(4, 32, true);
  dv.setUint32(8, at.t, true); dv.setUint32(12, types.length, true);
  dv.setUint32(16, at.s, true); dv.setUint32(20, strings.length, true);
  dv.setUint32(24, at.l, true); dv.setUint32(28, layout.length, true);
  for (const k of order) out.set(part[k], 32 + at[k]);
  return out;
}

const ORDERS: ("t" | "s" | "l")[][] = [["t", "l", "s"], ["t", "s", "l"], ["l", "t", "s"]];

describe("BTF kind-layout section", () => {
  test.each(ORDERS.map((o) => [o.join("")]))("order %s: encode∘parse returns the same bytes", (o) => {
    const b = blob(o.split("") as ("t" | "s" | "l")[]);
    expect(Buffer.from(encodeBtf(parseBtf(b))).equals(Buffer.from(b))).toBe(true);
  });

  test("a gap, an overlap or an out-of-range layout section: typed errors naming the header", () => {
    const gap = blob(["t", "l", "s"], { gap: 4 });
    expect(() => parseBtf(gap)).toThrow(/overlap or leave a gap/);
    const b = blob(["t", "l", "s"]);
    const dv = new DataView(b.buffer);
    dv.setUint32(24, types.length + 4, true);
    expect(() => parseBtf(b)).toThrow(/overlap or leave a gap/);
    dv.setUint32(24, b.length, true);
    expect(() => parseBtf(b)).toThrow(/runs past the end/);
    const c = blob(["t", "l", "s"]);
    new DataView(c.buffer).setUint32(28, 0, true);
    expect(() => parseBtf(c)).toThrow(/overlap or leave a gap|bytes follow/);
  });

  describe.skipIf(!haveTool("bpftool", "version") || !haveBun())("dumps", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-kindlayout-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    test.each(ORDERS.map((o) => [o.join("")]))("order %s: tsbpf btf dump equals bpftool's", (o) => {
      const f = join(dir, `${o}.btf`);
      writeFileSync(f, blob(o.split("") as ("t" | "s" | "l")[]));
      const ours = spawnSync(join(ROOT, "node_modules/.bin/bun"), [join(ROOT, "src/cli/tsbpf.ts"), "btf", "dump", f], { encoding: "utf8" });
      expect(ours.status, ours.stderr).toBe(0);
      expect(ours.stdout).toBe(run("bpftool", ["btf", "dump", "file", f]));
    });
  });
});
