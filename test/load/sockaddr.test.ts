// Socket addresses: our inet_pton-style parser against glibc's inet_pton(3) (through python3's
// socket.inet_pton, one process for the whole batch) on generated valid and invalid texts, and
// the kernel's own getsockname() answers for addresses we bind on loopback.

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveBun, haveRoot, haveTool, run } from "../support/env.ts";
import { decodeSockAddr, encodeSockAddr, parseAddress } from "../../src/sys/socket.ts";

const hex = (b: Uint8Array | undefined) => (b === undefined ? "x" : Buffer.from(b).toString("hex"));

/** glibc's answer for each [family, text]: the address bytes as hex, or "x" when it refuses. */
function glibcPton(cases: readonly (readonly ["inet" | "inet6", string])[]): string[] {
  const script = `import sys, json, socket
for line in sys.stdin:
    fam, s = json.loads(line)
    try:
        print(socket.inet_pton(socket.AF_INET if fam == "inet" else socket.AF_INET6, s).hex())
    except (OSError, ValueError):
        print("x")
`;
  return run("python3", ["-c", script], Buffer.from(cases.map((c) => JSON.stringify(c)).join("\n") + "\n")).trim().split("\n");
}

const texts = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  fc.stringMatching(/^[0-9a-fA-F:.]{0,24}$/),
  fc.array(fc.oneof(fc.constant("::"), fc.constant(":"), fc.constant("."), fc.stringMatching(/^[0-9a-f]{0,5}$/), fc.integer({ min: 0, max: 300 }).map(String)), { maxLength: 10 }).map((xs) => xs.join("")),
);

describe.skipIf(!haveTool("python3", "--version"))("address parsing against glibc inet_pton", () => {
  test("IPv4 and IPv6 texts: the same bytes, the same refusals", () => {
    const samples = fc.sample(fc.tuple(fc.constantFrom<"inet" | "inet6">("inet", "inet6"), texts), { numRuns: 3000, seed: 7 });
    const fixed: ["inet" | "inet6", string][] = [
      ["inet", "127.0.0.1"], ["inet", "01.2.3.4"], ["inet", "1.2.3"], ["inet", "256.1.1.1"], ["inet6", "::"], ["inet6", "::1"],
      ["inet6", "1:2:3:4:5:6:7::"], ["inet6", "::ffff:10.0.0.1"], ["inet6", "1:2:3:4:5:6:7:8:9"], ["inet6", ":1::"], ["inet6", "1::2::3"],
      ["inet6", "1:2:3:4:5:6:1.2.3.4"], ["inet6", "1.2.3.4::"], ["inet6", "::12345"], ["inet6", "fe80::1%lo"],
    ];
    const cases = [...fixed, ...samples];
    const want = glibcPton(cases);
    const got = cases.map(([fam, s]) => hex(parseAddress(fam, s)));
    const diffs = cases.map((c, i) => [c, want[i], got[i]] as const).filter(([, w, g]) => w !== g);
    expect(diffs).toEqual([]);
    // Both sides of the law saw plenty of each outcome.
    expect(want.filter((w) => w !== "x").length).toBeGreaterThan(500);
    expect(want.filter((w) => w === "x").length).toBeGreaterThan(500);
  });

  test("encode then decode gives the address back (as bytes) and the port", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4().map((a) => ["inet", a] as const), fc.ipV6().map((a) => ["inet6", a] as const)), fc.integer({ min: 0, max: 65535 }), ([fam, a], port) => {
        const back = decodeSockAddr(encodeSockAddr(fam === "inet" ? { family: fam, addr: a, port } : { family: fam, addr: a, port }));
        if (back.family === "unix") throw new Error("decoded as unix");
        expect(back.family).toBe(fam);
        expect(back.port).toBe(port);
        expect(hex(parseAddress(fam, back.addr))).toBe(hex(parseAddress(fam, a)));
      }),
      { numRuns: 500 },
    );
  });
});

const live = haveBun() && haveRoot();
const load = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

describe.skipIf(!live)("addresses the kernel reports", () => {
  test("any 127.0.0.0/8 address binds, and getsockname answers it with the kernel's chosen port", () => {
    fc.assert(
      fc.property(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 })), ([b, c, d]) => {
        const addr = `127.${b}.${c}.${d}`;
        using s = load.Socket.udp().bind(addr, 0);
        const got = s.localAddress();
        expect(got).toMatchObject({ family: "inet", addr, port: expect.any(Number) });
        expect(got.family === "inet" && got.port > 0).toBe(true);
      }),
      { numRuns: 100 },
    );
    using s6 = load.Socket.tcp("inet6").bind("::1", 0);
    expect(s6.localAddress()).toMatchObject({ family: "inet6", addr: "0:0:0:0:0:0:0:1" });
  });

  test("unix paths and abstract names bind, and getsockname answers them byte for byte", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-N-unix-"));
    try {
      fc.assert(
        fc.property(fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,39}$/), fc.boolean(), (name, abstract) => {
          const path = abstract ? `\0tsbpf-N-${process.pid}-${name}` : join(dir, name);
          if (!abstract) rmSync(path, { force: true });
          using s = load.Socket.open("unix", load.SOCK.DGRAM).bindPath(path);
          expect(s.localAddress()).toEqual({ family: "unix", path });
        }),
        { numRuns: 100 },
      );
      using a = load.Socket.open("unix", load.SOCK.DGRAM).bindPath(join(dir, "rx"));
      using b = load.Socket.open("unix", load.SOCK.DGRAM);
      b.sendToPath("over a path", join(dir, "rx"));
      expect(new TextDecoder().decode(a.recv(64, 1000))).toBe("over a path");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => load.Socket.open("unix", load.SOCK.DGRAM).bindPath("x".repeat(108))).toThrow(expect.objectContaining({ command: "sockaddr", hint: expect.stringMatching(/1\.\.107 bytes/) }));
  });

  test("malformed addresses and ports are typed errors before any system call", () => {
    using s = load.Socket.udp();
    expect(() => s.bind("127.0.0.01", 0)).toThrow(expect.objectContaining({ code: "SYS", command: "inet_pton", hint: expect.stringMatching(/leading zeros/) }));
    expect(() => s.connect("127.0.0.1", 70000)).toThrow(expect.objectContaining({ command: "sockaddr", hint: expect.stringMatching(/0\.\.65535/) }));
  });
});
