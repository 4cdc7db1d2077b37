// `tsbpf test-run` against `bpftool prog run` on the same object and frames: the return value and
// the output bytes must agree (bpftool loads its own copy with libbpf: prog loadall + pin).

import { describe, expect, test, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveBun, haveRoot, haveTool, run, ROOT } from "../support/env.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version");
const OBJ = join(ROOT, "fixtures/obj/xdp_drop_icmp.v3.o");

function frame(etherType: number, proto: number, len: number): Uint8Array {
  const f = new Uint8Array(Math.max(len, 14));
  for (let i = 0; i < f.length; i++) f[i] = (i * 37 + proto) & 0xff;
  f[12] = etherType >> 8; f[13] = etherType & 0xff;
  if (f.length >= 34) { f[14] = 0x45; f[23] = proto; }
  return f;
}

describe.skipIf(!live)("tsbpf test-run vs bpftool prog run", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-testrun-"));
  const pin = `/sys/fs/bpf/tsbpf-testrun-${process.pid}`;
  beforeAll(() => {
    if (!/ \/sys\/fs\/bpf bpf /.test(readFileSync("/proc/mounts", "utf8"))) run("mount", ["-t", "bpf", "bpf", "/sys/fs/bpf"]);
    run("bpftool", ["prog", "loadall", OBJ, pin]);
  });
  afterAll(() => {
    spawnSync("rm", ["-rf", pin]);
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, Uint8Array][] = [
    ["icmp", frame(0x0800, 1, 60)], ["tcp", frame(0x0800, 6, 60)], ["udp", frame(0x0800, 17, 98)],
    ["arp", frame(0x0806, 1, 42)], ["runt ip", frame(0x0800, 1, 20)], ["ipv6", frame(0x86dd, 58, 70)],
  ];
  test.each(cases)("%s frame: same retval and data out", (name, f) => {
    const inFile = join(dir, `${name}.in`), outFile = join(dir, `${name}.out`);
    writeFileSync(inFile, f);
    const native = run("bpftool", ["-j", "prog", "run", "pinned", join(pin, "xdp_drop_icmp"), "data_in", inFile, "data_out", outFile, "repeat", "3"]);
    const want = JSON.parse(native) as { retval: number };
    const ours = spawnSync(join(ROOT, "node_modules/.bin/bun"), [join(ROOT, "src/cli/tsbpf.ts"), "test-run", OBJ, "--prog", "xdp_drop_icmp", "--data", inFile, "--repeat", "3", "--json"], { encoding: "utf8" });
    expect(ours.status, ours.stderr).toBe(0);
    const got = JSON.parse(ours.stdout) as { retval: number; duration: number; data: string };
    expect(got.retval).toBe(want.retval);
    expect(got.data).toBe(Array.from(readFileSync(outFile), (b) => b.toString(16).padStart(2, "0")).join(" "));
    expect(got.duration).toBeGreaterThanOrEqual(0);
  });

  test("bad usage exits 2 with a message", () => {
    const r = spawnSync(join(ROOT, "node_modules/.bin/bun"), [join(ROOT, "src/cli/tsbpf.ts"), "test-run", OBJ, "--repeat", "0"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--prog NAME is required|--repeat/);
  });
});
