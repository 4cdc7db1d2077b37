// `bpftool map dump` of a kernel map, in its three layouts: hex keys and values for a map without
// BTF, the pretty BTF-formatted listing for a map with BTF, and the `-j` JSON (hex bytes plus
// "formatted" values). Entries whose lookup fails are shown with the error, as bpftool does.

import { dumpBtfValue } from "../../btf/value-dump.ts";
import { JsonWriter } from "../../btf/json-writer.ts";
import { loadBtfFile } from "../../btf/file.ts";
import { parseBtf } from "../../btf/parse.ts";
import type { Btf } from "../../btf/btf.ts";
import { getFdById, mapGetNextKey, mapLookupElem } from "../sys/bpf.ts";
import { MAP_TYPE, PERCPU_MAP_TYPES } from "../sys/constants.ts";
import { isSysError } from "../sys/errno.ts";
import { mapInfo, type MapInfo } from "../sys/info.ts";
import { BtfHandle } from "./btf.ts";
import { numPossibleCpus } from "./cpus.ts";
import { closeQuietly } from "./fd.ts";

/** One key: its value per CPU (one for maps that are not per-CPU), or the lookup's errno. */
export type DumpEntry = { key: Uint8Array; values: Uint8Array[] } | { key: Uint8Array; errno: number };

export interface MapDump {
  info: MapInfo;
  entries: DumpEntry[];
  /** The errno that ended the key walk early (a map without keys), else undefined. */
  walkErrno?: number;
  /** The BTF of the key and value types: the map's own, or the kernel's for struct_ops values. */
  btf?: Btf;
}

const VMLINUX = "/sys/kernel/btf/vmlinux";

/** glibc's strerror texts for what a map lookup returns; others as glibc prints unknown codes. */
const STRERROR: Record<number, string> = {
  1: "Operation not permitted", 2: "No such file or directory", 7: "Argument list too long", 9: "Bad file descriptor",
  11: "Resource temporarily unavailable", 12: "Cannot allocate memory", 13: "Permission denied", 14: "Bad address",
  16: "Device or resource busy", 22: "Invalid argument", 28: "No space left on device", 95: "Operation not supported",
};
const strerror = (e: number): string => STRERROR[e] ?? `Unknown error ${e}`;

const isMapOfMaps = (t: number) => t === MAP_TYPE.ARRAY_OF_MAPS || t === MAP_TYPE.HASH_OF_MAPS;
const isPerCpu = (info: MapInfo) => PERCPU_MAP_TYPES.has(info.type);

/** bpftool's choice of BTF: the kernel's for a vmlinux value type, the map's when it has a value type. */
function keyValueBtf(info: MapInfo): Btf | undefined {
  if (info.btfVmlinuxValueTypeId) return loadBtfFile(VMLINUX);
  if (!info.btfValueTypeId) return undefined;
  using h = BtfHandle.fromId(info.btfId);
  return parseBtf(h.data());
}

/** The lookup's errno, 0 when it found the key. */
function lookup(fd: number, key: Uint8Array, out: Uint8Array): number {
  try {
    return mapLookupElem(fd, key, out) ? 0 : 2;
  } catch (e) {
    if (isSysError(e)) return e.errno;
    throw e;
  }
}

/** Every entry of the map with id `id`, walked by key as bpftool walks it. */
export function readMapDump(id: number): MapDump {
  const fd = getFdById("map", id);
  try {
    const info = mapInfo(fd);
    const perCpu = isPerCpu(info);
    const stride = perCpu ? Math.ceil(info.valueSize / 8) * 8 : info.valueSize;
    const n = perCpu ? numPossibleCpus() : 1;
    const entries: DumpEntry[] = [];
    let walkErrno: number | undefined;
    let prev: Uint8Array | null = null;
    // A hash map changing under the walk can revisit keys; bound the walk by what the map can hold.
    for (let guard = 0; guard <= info.maxEntries; guard++) {
      const key = new Uint8Array(info.keySize);
      try {
        if (!mapGetNextKey(fd, prev, key)) break;
      } catch (e) {
        if (!isSysError(e)) throw e;
        walkErrno = e.errno;
        break;
      }
      const all = new Uint8Array(stride * n);
      const errno = lookup(fd, key, all);
      if (errno === 0) entries.push({ key, values: Array.from({ length: n }, (_, c) => all.slice(c * stride, c * stride + info.valueSize)) });
      else if (!((isMapOfMaps(info.type) || info.type === MAP_TYPE.PROG_ARRAY) && errno === 2)) entries.push({ key, errno });
      prev = key;
    }
    const btf = info.btfId || info.btfVmlinuxValueTypeId ? keyValueBtf(info) : undefined;
    return { info, entries, walkErrno, btf };
  } finally {
    closeQuietly(fd);
  }
}

/** bpftool's fprint_hex: "%02x" bytes, two spaces after every 8th, a newline after every 16th. */
export function hexBytes(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) {
    if (i > 0) s += i % 16 === 0 ? "\n" : i % 8 === 0 ? "  " : " ";
    s += b[i].toString(16).padStart(2, "0");
  }
  return s;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** One entry in bpftool's hex layout (print_entry_plain). */
function plainEntry(info: MapInfo, key: Uint8Array, values: Uint8Array[]): string {
  let s = "";
  if (!isPerCpu(info)) {
    const breakNames = info.keySize > 16 || info.valueSize > 16;
    const single = info.keySize + info.valueSize <= 24 && !breakNames;
    if (info.keySize) s += `key:${breakNames ? "\n" : " "}${hexBytes(key)}${single ? "  " : "\n"}`;
    if (info.valueSize) s += `value:${breakNames ? "\n" : " "}${hexBytes(values[0])}`;
    return s + "\n";
  }
  if (info.keySize) s += `key:\n${hexBytes(key)}\n`;
  if (info.valueSize) values.forEach((v, c) => { s += `value (CPU ${pad2(c)}):${info.valueSize > 16 ? "\n" : " "}${hexBytes(v)}\n`; });
  return s;
}

/** A failed lookup in bpftool's hex layout (print_entry_error_msg). */
function plainError(info: MapInfo, key: Uint8Array, errno: number): string {
  const msg = errno === 2 ? "<no entry>" : errno === 28 && info.type === MAP_TYPE.REUSEPORT_SOCKARRAY ? "<cannot read>" : strerror(errno);
  const breakNames = info.keySize > 16 || msg.length > 16;
  const single = info.keySize + msg.length <= 24 && !breakNames;
  return `key:${breakNames ? "\n" : " "}${hexBytes(key)}${single ? "  " : "\n"}value:${breakNames ? "\n" : " "}${msg}\n`;
}

/** Key and value(s) through BTF, as bpftool's do_dump_btf writes them. */
function btfEntry(w: JsonWriter, d: MapDump, key: Uint8Array, values: Uint8Array[], plain: boolean): void {
  const { info, btf } = d;
  if (!btf) return;
  w.startObject();
  let ok = true;
  if (info.btfKeyTypeId) {
    w.name("key");
    ok = dumpBtfValue(w, btf, info.btfKeyTypeId, key, plain);
  }
  const valueId = info.btfVmlinuxValueTypeId || info.btfValueTypeId;
  if (ok && !isPerCpu(info)) {
    w.name("value");
    dumpBtfValue(w, btf, valueId, values[0], plain);
  } else if (ok) {
    w.name("values");
    w.startArray();
    for (let c = 0; c < values.length; c++) {
      w.startObject();
      w.name("cpu");
      w.raw(String(c));
      w.name("value");
      const good = dumpBtfValue(w, btf, valueId, values[c], plain);
      w.endObject();
      if (!good) break;
    }
    w.endArray();
  }
  w.endObject();
}

/** The text `bpftool map dump` prints: pretty BTF listing for maps with BTF, else hex and a count. */
export function mapDumpText(d: MapDump): string {
  const { info } = d;
  if (info.btfId) {
    const w = new JsonWriter(true);
    w.startArray();
    for (const e of d.entries) {
      if ("errno" in e) w.verbatim(plainError(info, e.key, e.errno));
      else if (d.btf) btfEntry(w, d, e.key, e.values, true);
      else w.verbatim(plainEntry(info, e.key, e.values));
    }
    w.endArray();
    return w.finish();
  }
  let s = "";
  let found = 0;
  for (const e of d.entries) {
    if ("errno" in e) s += plainError(info, e.key, e.errno);
    else {
      s += plainEntry(info, e.key, e.values);
      found++;
    }
  }
  return s + `Found ${found} element${found === 1 ? "" : "s"}\n`;
}

function hexArray(w: JsonWriter, b: Uint8Array): void {
  w.startArray();
  for (const x of b) w.raw(`"0x${x.toString(16).padStart(2, "0")}"`);
  w.endArray();
}

/** The text `bpftool -j map dump` prints (`pretty`: `bpftool -p`). */
export function mapDumpJson(d: MapDump, pretty = false): string {
  const { info } = d;
  const w = new JsonWriter(pretty);
  w.startArray();
  for (const e of d.entries) {
    w.startObject();
    w.name("key");
    hexArray(w, e.key);
    if ("errno" in e) {
      w.name("value");
      w.startObject();
      w.name("error");
      w.string(strerror(e.errno));
      w.endObject();
    } else if (!isPerCpu(info)) {
      w.name("value");
      hexArray(w, e.values[0]);
    } else {
      w.name("values");
      w.startArray();
      e.values.forEach((v, cpu) => {
        w.startObject();
        w.name("cpu");
        w.raw(String(cpu));
        w.name("value");
        hexArray(w, v);
        w.endObject();
      });
      w.endArray();
    }
    if (!("errno" in e) && d.btf) {
      w.name("formatted");
      btfEntry(w, d, e.key, e.values, false);
    }
    w.endObject();
  }
  w.endArray();
  return w.finish();
}
