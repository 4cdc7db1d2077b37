// The command line's contract: usage errors exit 2 with a message, --help exits 0.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { ROOT } from "./support/env.ts";

const bun = `${ROOT}node_modules/.bin/bun`;
const tsbpf = (...args: string[]) => spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, ...args], { encoding: "utf8" });

describe("tsbpf", () => {
  it("prints usage and exits 0 on --help", () => {
    const r = tsbpf("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^tsbpf — /);
  });
  it("exits 2 with no command", () => {
    expect(tsbpf().status).toBe(2);
  });
  it("exits 2 and names an unknown command", () => {
    const r = tsbpf("frobnicate");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});
