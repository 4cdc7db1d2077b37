// Decoded records of a loaded collection's ring buffer or perf event array, as an async iterator:
// `for await (const e of events(coll, "events")) …` yields each record decoded through the
// object's BTF, or types read from its DWARF (the record type named, or found as `tsbpf run` finds it).

import { TsbpfError } from "../errors.ts";
import { MAP_TYPE } from "../sys/constants.ts";
import { recordDecoder } from "./event-type.ts";
import type { Collection } from "./object.ts";
import { PerfBuffer } from "./perfbuf.ts";
import { RingBuffer } from "./ringbuf.ts";
import type { TypedValue } from "./typed.ts";

export interface EventOptions {
  /** The record's type by name ("event" or "struct event"), from BTF or DWARF; default: chosen by name and size. */
  type?: string;
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** How often to look for records while none are pending, in ms (default 5). */
  pollMs?: number;
}

/** Records of the ring buffer or perf event array map `mapName` of `coll`, decoded, as they arrive. */
export async function* events(coll: Collection, mapName: string, opts: EventOptions = {}): AsyncGenerator<TypedValue> {
  const map = coll.maps.get(mapName);
  if (!map) throw new TsbpfError("LOAD_BAD_INPUT", `no map '${mapName}' in the collection`, {}, `maps: ${[...coll.maps.keys()].join(", ")}`);
  const spec = coll.object.maps.find((m) => m.name === mapName)!;
  // Without a name, the type is chosen per record size, as `tsbpf run` chooses it (BTF, then DWARF).
  const decode = recordDecoder(coll.object, spec, opts.type !== undefined ? { type: opts.type } : {});
  if (map.type === MAP_TYPE.RINGBUF) {
    using rb = new RingBuffer(map);
    for await (const rec of rb.events({ pollMs: opts.pollMs, signal: opts.signal })) yield decode(rec);
    return;
  }
  if (map.type !== MAP_TYPE.PERF_EVENT_ARRAY) {
    throw new TsbpfError("LOAD_BAD_INPUT", `map '${mapName}' is neither a ring buffer nor a perf event array`, {}, "records come from BPF_MAP_TYPE_RINGBUF or PERF_EVENT_ARRAY maps");
  }
  using pb = new PerfBuffer(map);
  const pollMs = opts.pollMs ?? 5;
  while (!opts.signal?.aborted) {
    const batch = pb.drain();
    if (batch.length === 0) {
      await new Promise((r) => setTimeout(r, pollMs));
      continue;
    }
    for (const s of batch) yield decode(s.data);
  }
}
