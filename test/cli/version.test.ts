// `tsbpf --version` prints the version package.json declares; an unknown command exits 2.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT, haveBun } from "../support/env.ts";

describe.skipIf(!haveBun())("tsbpf --version", () => {
  const cli = (...a: string[]) => spawnSync(join(ROOT, "node_modules/.bin/bun"), [join(ROOT, "src/cli/tsbpf.ts"), ...a], { encoding: "utf8" });
  test("--version, -V and version print package.json's version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V", "version"]) {
      const r = cli(flag);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`tsbpf ${version}\n`);
    }
  });
  test("an unknown command exits 2 and names it", () => {
    const r = cli("frobnicate");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
