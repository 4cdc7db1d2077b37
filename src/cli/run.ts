// `tsbpf run OBJ [--duration S] [--iface IF] [--cgroup PATH] [--uprobe-binary PATH --uprobe-func SYM]`:
// load, attach every program by its section, stream ring/perf buffer records as JSON lines, and on
// exit (duration over, SIGINT or SIGTERM) detach and print every map.

import { TsbpfError } from "../errors.ts";
import { attachCollection, type AttachOptions } from "../load/attach.ts";
import { loadCollectionFile } from "../load/object.ts";
import { PerfBuffer } from "../load/perfbuf.ts";
import { RingBuffer } from "../load/ringbuf.ts";
import { typedJson } from "../load/typed.ts";
import { MAP_TYPE } from "../sys/constants.ts";
import { VerifierError } from "../sys/progload.ts";
import { recordDecoder } from "../load/event-type.ts";
import { renderMaps } from "../render/maps.ts";
import { Link } from "../load/link.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { err, out } from "./output.ts";

const HELP = `usage: tsbpf run OBJ [--duration S] [--iface IF] [--cgroup PATH] [--uprobe-binary PATH]
                [--uprobe-func SYMBOL] [--uprobe-pid PID] [--freq HZ] [--sockmap MAP]
                [--netns PATH] [--json-maps]

Load OBJ, attach every autoloaded program by its section (tracepoint/, raw_tp/, tp_btf/, fentry/,
kprobe/, uprobe/, perf_event, xdp, tc/tcx, cgroup_*…), register its struct_ops maps, print ring
buffer and perf buffer records as
JSON lines ({"map":…,"event":…}), and when the duration ends or on Ctrl-C detach everything and
print every map: histogram values (a struct with a 'slots' array of log2 counters) drawn like
bpftrace's hist(), other entries as JSON lines.
  --duration S        stop after S seconds (default: run until SIGINT/SIGTERM)
  --iface IF          network interface for xdp and tc/tcx programs
  --cgroup PATH       cgroup v2 directory for cgroup programs (default: the cgroup2 mount)
  --uprobe-binary P   binary for uprobes whose section names none (SEC("uprobe"))
  --uprobe-func SYM   function symbol in that binary
  --uprobe-pid PID    probe only this process
  --freq HZ           sampling frequency of perf_event programs (default 49)
  --sockmap MAP       the object's sockmap/sockhash that sk_skb and sk_msg programs attach to
  --netns PATH        network namespace for sk_lookup and flow_dissector programs
                      (e.g. /proc/self/ns/net or /var/run/netns/NAME)
  --json-maps         print every map entry as JSON (no histogram drawing)
Record types: a perf event array's BTF value type when it is a struct; else struct 'event',
'<map>_event' or '<map without trailing s>_event' (forks → fork_event); else the only struct
named *event* of the record's size. These are looked up in the object's BTF, then in its DWARF
(clang keeps a struct used only through a pointer out of BTF; build with -g to keep it in
.debug_info). Without one, records print as hex bytes.
Programs that need a target the section cannot name (socket filters; sockmap and netns programs
without --sockmap/--netns) are skipped with a note on stderr. Exit 0 after a clean detach; 1 if
loading or attaching fails; 2 on bad usage.`;

function num(v: string | undefined, what: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new TsbpfError("USAGE", `run: ${what} takes a number ≥ ${min}, got '${v}'`, {}, "see 'tsbpf run --help'");
  return n;
}

export const command: Command = {
  name: "run",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const a = parseArgs(argv, {
      values: ["--duration", "--iface", "--cgroup", "--uprobe-binary", "--uprobe-func", "--uprobe-pid", "--freq", "--sockmap", "--netns"],
      booleans: ["--json-maps"],
    }, "run");
    if (a.positionals.length !== 1) throw new TsbpfError("USAGE", "run: expected exactly one OBJ", {}, "see 'tsbpf run --help'");
    const duration = num(a.values.get("--duration"), "--duration", 0);
    const pid = num(a.values.get("--uprobe-pid"), "--uprobe-pid", -1);
    const freq = num(a.values.get("--freq"), "--freq", 1);
    const opts: AttachOptions = {
      ...(a.values.has("--iface") ? { iface: a.values.get("--iface")! } : {}),
      ...(a.values.has("--cgroup") ? { cgroup: a.values.get("--cgroup")! } : {}),
      ...(a.values.has("--uprobe-binary") ? { uprobeBinary: a.values.get("--uprobe-binary")! } : {}),
      ...(a.values.has("--uprobe-func") ? { uprobeFunc: a.values.get("--uprobe-func")! } : {}),
      ...(pid !== undefined ? { uprobePid: pid } : {}),
      ...(freq !== undefined ? { perfFreq: freq } : {}),
      ...(a.values.has("--sockmap") ? { sockmap: a.values.get("--sockmap")! } : {}),
      ...(a.values.has("--netns") ? { netns: a.values.get("--netns")! } : {}),
    };
    let coll;
    try {
      coll = loadCollectionFile(a.positionals[0]);
    } catch (e) {
      if (e instanceof VerifierError) {
        err(e.log.endsWith("\n") ? e.log : e.log + "\n");
        err(`${e.message}\n`);
        return 1;
      }
      throw e;
    }
    try {
      using att = attachCollection(coll, opts);
      for (const o of att.outcomes) {
        if ("skipped" in o) err(`${o.program} (SEC("${o.section}")): not attached: ${o.skipped}\n`);
        else err(`${o.program}: attached ${o.links.map((l) => l.what).join(", ")}\n`);
      }
      for (const s of att.structOps) err(`struct_ops ${s.map}: registered${s.handle instanceof Link ? " through a struct_ops link" : ""}\n`);
      const readers: { drain: () => void; close: () => void }[] = [];
      try {
        for (const spec of coll.object.maps) {
          const map = coll.maps.get(spec.name)!;
          const decode = recordDecoder(coll.object, spec, { onWarning: (m) => err(`${m}\n`) });
          const emit = (rec: Uint8Array) => out(typedJson({ map: spec.name, event: decode(rec) }) + "\n");
          if (spec.type === MAP_TYPE.RINGBUF) {
            const rb = new RingBuffer(map);
            readers.push({ drain: () => { for (const r of rb.drain()) emit(r); }, close: () => rb.close() });
          } else if (spec.type === MAP_TYPE.PERF_EVENT_ARRAY) {
            const pb = new PerfBuffer(map);
            readers.push({ drain: () => { pb.consume((s) => emit(s.data)); }, close: () => pb.close() });
          }
        }
        await pollUntilStopped(readers, duration);
      } finally {
        for (const r of readers) r.close();
      }
    } catch (e) {
      coll.close();
      if (e instanceof TsbpfError || e instanceof VerifierError) throw e;
      throw e;
    }
    // Links are closed (detached) here; the maps still hold what the programs wrote.
    try {
      out(renderMaps(coll, { json: a.flags.has("--json-maps") }));
    } finally {
      coll.close();
    }
    return 0;
  },
};

/** Drain every reader every 50 ms until the duration ends or SIGINT/SIGTERM arrives. */
async function pollUntilStopped(readers: { drain: () => void }[], duration: number | undefined): Promise<void> {
  let stop = false;
  const onSignal = () => { stop = true; };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const end = duration === undefined ? Infinity : Date.now() + duration * 1000;
  try {
    while (!stop && Date.now() < end) {
      for (const r of readers) r.drain();
      await new Promise((res) => setTimeout(res, Math.max(0, Math.min(50, end - Date.now()))));
    }
    for (const r of readers) r.drain();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
