// `tsbpf run` on objects whose programs need more than a section name: sk_skb/sk_msg programs
// attach to the sockmap named by --sockmap, sk_lookup/flow_dissector to the namespace named by
// --netns (the kernel's fdinfo and bpftool see the links while the run lasts). The struct_ops run is tested in
// test/load/struct-ops.test.ts, next to the other registrations of the same name.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ROOT, haveBun, haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";
import { heldLinks, runDuring } from "../support/run-cli.ts";

const live = haveBun() && haveRoot() && haveKernelBtf() && haveTool("bpftool", "version") && haveTool("ip", "-V");
const BUN = join(ROOT, "node_modules/.bin/bun");
const CLI = join(ROOT, "src/cli/tsbpf.ts");

describe.skipIf(!live)("tsbpf run: sockmaps and namespaces", () => {
  const ns = `tsbpf-run-${process.pid}`;
  afterAll(() => { spawnSync("ip", ["netns", "del", ns]); });

  test("sockmap.o --sockmap sock_map: its sk_skb and sk_msg programs are sockmap links while it runs", async () => {
    let held: { type: string; progId: number }[] = [];
    let pid = 0;
    const r = await runDuring([join(ROOT, "fixtures/obj/sockmap.o"), "--sockmap", "sock_map", "--duration", "2"], /(attached.*\n.*){3}/, (p) => {
      pid = p;
      held = heldLinks(p);
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/not attached/);
    // The kernel's own account of the run's links: three sockmap links, three distinct programs.
    expect(held.filter((l) => l.type === "sockmap").length).toBe(3);
    expect(new Set(held.map((l) => l.progId)).size).toBe(3);
    // After the run no link of the kernel still runs those programs.
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    const links = JSON.parse(spawnSync("bpftool", ["-j", "link", "show"], { encoding: "utf8" }).stdout || "[]") as { prog_id: number }[];
    expect(links.filter((l) => held.some((h) => h.progId === l.prog_id))).toEqual([]);
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
