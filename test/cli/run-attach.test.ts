// `tsbpf run` on objects whose programs need more than a section name: sk_skb/sk_msg programs
// attach to the sockmap named by --sockmap, sk_lookup/flow_dissector to the namespace named by
// --netns (bpftool sees the links while the run lasts). The struct_ops run is tested in
// test/load/struct-ops.test.ts, next to the other registrations of the same name.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ROOT, haveBun, haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";
import { runDuring } from "../support/run-cli.ts";

const live = haveBun() && haveRoot() && haveKernelBtf() && haveTool("bpftool", "version") && haveTool("ip", "-V");
const BUN = join(ROOT, "node_modules/.bin/bun");
const CLI = join(ROOT, "src/cli/tsbpf.ts");

const linksOfType = (type: number | string) =>
  (JSON.parse(spawnSync("bpftool", ["-j", "link", "show"], { encoding: "utf8" }).stdout || "[]") as { type: number | string; prog_id: number }[])
    .filter((l) => l.type === type);

describe.skipIf(!live)("tsbpf run: sockmaps and namespaces", () => {
  const ns = `tsbpf-run-${process.pid}`;
  afterAll(() => { spawnSync("ip", ["netns", "del", ns]); });

  test("sockmap.o --sockmap sock_map: its sk_skb and sk_msg programs are sockmap links while it runs", async () => {
    const before = linksOfType(14).length + linksOfType("sockmap").length;
    let during = 0;
    const r = await runDuring([join(ROOT, "fixtures/obj/sockmap.o"), "--sockmap", "sock_map", "--duration", "2"], /(attached.*\n.*){3}/, () => {
      during = linksOfType(14).length + linksOfType("sockmap").length;
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/not attached/);
    expect(during - before).toBe(3);
    expect(linksOfType(14).length + linksOfType("sockmap").length).toBe(before);
  });

  test("sock_lookup.o --netns: sk_lookup and flow_dissector links in that namespace, bpftool net shows the dissector", async () => {
    spawnSync("ip", ["netns", "add", ns]);
    let net = "";
    const r = await runDuring([join(ROOT, "fixtures/obj/sock_lookup.o"), "--netns", `/var/run/netns/${ns}`, "--duration", "2"], /(attached.*\n.*){2}/, () => {
      net = spawnSync("ip", ["netns", "exec", ns, "bpftool", "net", "show"], { encoding: "utf8" }).stdout;
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/not attached/);
    expect(net).toMatch(/flow_dissector:\s*\n\s*id \d+/);
    const after = spawnSync("ip", ["netns", "exec", ns, "bpftool", "net", "show"], { encoding: "utf8" }).stdout;
    expect(after).not.toMatch(/flow_dissector:\s*\n\s*id \d+/);
  });

  test("bad --sockmap: a typed error naming the map, exit 2 (bad input)", () => {
    const r = spawnSync(BUN, [CLI, "run", join(ROOT, "fixtures/obj/sockmap.o"), "--sockmap", "nope", "--duration", "1"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nope/);
  });
});
