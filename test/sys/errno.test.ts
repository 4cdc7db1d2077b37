// errno names against a second source (Python's errno module, built from the C library's
// headers), and the shape of SysError: command, errno name, hint.

import { describe, expect, test } from "vitest";
import { haveTool, run } from "../support/env.ts";
import { SysError, errnoName, errnoNumber } from "../../src/sys/errno.ts";
import { TsbpfError } from "../../src/errors.ts";

describe("errno names", () => {
  test.skipIf(!haveTool("python3"))("every name Python knows for 1..133 is ours (aliases aside)", () => {
    const py = JSON.parse(run("python3", ["-c", "import errno, json; print(json.dumps({n: getattr(errno, n) for n in dir(errno) if n.startswith('E')}))"])) as Record<string, number>;
    const byNumber = new Map<number, string[]>();
    for (const [name, n] of Object.entries(py)) byNumber.set(n, [...(byNumber.get(n) ?? []), name]);
    let checked = 0;
    for (let n = 1; n <= 133; n++) {
      const names = byNumber.get(n);
      if (!names) continue;
      expect(names).toContain(errnoName(n));
      for (const name of names) if (errnoNumber(name) !== undefined) expect(errnoNumber(name)).toBe(n);
      checked++;
    }
    expect(checked).toBeGreaterThan(120);
  });

  test("kernel-internal codes bpf() leaks, and unknown numbers", () => {
    expect(errnoName(524)).toBe("ENOTSUPP");
    expect(errnoName(9999)).toBe("errno 9999");
  });

  test("SysError names the command and errno, is a TsbpfError with code SYS, and hints by errno", () => {
    const e = new SysError("MAP_CREATE", 1);
    expect(e).toBeInstanceOf(TsbpfError);
    expect([e.code, e.command, e.errno, e.errnoName]).toEqual(["SYS", "MAP_CREATE", 1, "EPERM"]);
    expect(e.message).toBe("MAP_CREATE failed: EPERM");
    expect(e.hint).toMatch(/CAP_BPF/);
    expect(new SysError("MAP_UPDATE_ELEM", 7).hint).toMatch(/full/);
    expect(new SysError("OBJ_GET", 2, "/sys/fs/bpf/x").message).toBe("OBJ_GET failed: ENOENT (/sys/fs/bpf/x)");
    expect(new SysError("PROG_LOAD", 22).describe()).toMatch(/^PROG_LOAD failed: EINVAL\n  hint: /);
  });
});
