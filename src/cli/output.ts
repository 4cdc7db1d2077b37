// The CLI's input and output: synchronous writes straight to fds 1 and 2, and whole files read and
// written through Bun's own calls where that spares loading node:fs.
// Why not process.stdout: in Bun 1.4 merely touching it costs ~33 ms of start-up (it builds a
// Node stream), more than the whole of a small disassembly; and a synchronous write is flushed
// before process.exit, so a large listing into a pipe is never cut short.

import { TsbpfError } from "../errors.ts";

const encoder = new TextEncoder();

// node:fs is loaded on the first write, not at start-up: under Bun it costs a few ms to set up,
// and commands that write through Bun's own calls (outAsync) never need it.
let fs: typeof import("node:fs") | undefined;
function writeSync(fd: number, bytes: Uint8Array): number {
  fs ??= process.getBuiltinModule("node:fs");
  return fs.writeSync(fd, bytes);
}

function writeAll(fd: number, data: string | Uint8Array): void {
  let bytes = typeof data === "string" ? encoder.encode(data) : data;
  while (bytes.length > 0) {
    let n: number;
    try {
      n = writeSync(fd, bytes);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EAGAIN") continue; // a non-blocking pipe that is full: try again
      if (code === "EPIPE") return; // the reader went away (e.g. `| head`): nothing left to do
      throw e;
    }
    bytes = bytes.subarray(n);
  }
}

/** Write text or bytes to stdout. */
export function out(data: string | Uint8Array): void {
  writeAll(1, data);
}

/**
 * Write text or bytes to stdout through Bun's own file writer when there is one (no node:fs at
 * all), else as out() does. Resolves once everything is written; a closed pipe ends it quietly.
 */
export async function outAsync(data: string | Uint8Array): Promise<void> {
  if (typeof Bun === "undefined") return out(data);
  try {
    await Bun.write(Bun.stdout, data);
  } catch (e) {
    if ((e as { code?: string }).code !== "EPIPE") throw e;
  }
}

/** A whole input file's bytes (Bun's reader when there is one: no node:fs); IO error if unreadable. */
export async function readInput(file: string): Promise<Uint8Array> {
  try {
    if (typeof Bun !== "undefined") return await Bun.file(file).bytes();
    return (process.getBuiltinModule("node:fs") as typeof import("node:fs")).readFileSync(file);
  } catch (e) {
    throw new TsbpfError("IO", `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
}

/** A whole input file (or stdin for "-") as UTF-8 text; IO error if unreadable. */
export async function readInputText(file: string): Promise<string> {
  try {
    if (typeof Bun !== "undefined") return await (file === "-" ? Bun.stdin : Bun.file(file)).text();
    return (process.getBuiltinModule("node:fs") as typeof import("node:fs")).readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    throw new TsbpfError("IO", `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
}

/**
 * Write `parts` one after another as the file `path` (created or truncated). A small file goes
 * through Bun's writer in one piece; a large one part by part (no joined copy); IO error on failure.
 */
export async function writeFileParts(path: string, parts: readonly Uint8Array[]): Promise<void> {
  let total = 0;
  for (const p of parts) total += p.length;
  try {
    if (typeof Bun !== "undefined" && total <= SMALL_FILE) {
      const one = parts.length === 1 ? parts[0] : new Uint8Array(total);
      if (parts.length !== 1) for (let at = 0, i = 0; i < parts.length; at += parts[i].length, i++) one.set(parts[i], at);
      await Bun.write(path, one, { createPath: false });
      return;
    }
    const nfs = (fs ??= process.getBuiltinModule("node:fs"));
    const fd = nfs.openSync(path, "w");
    try {
      for (const p of parts) for (let at = 0; at < p.length; ) at += nfs.writeSync(fd, p, at);
    } finally {
      nfs.closeSync(fd);
    }
  } catch (e) {
    throw new TsbpfError("IO", `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`, { file: path });
  }
}

/** Up to this size a file is joined and written in one call. */
const SMALL_FILE = 1 << 20;

/** Write text to stderr. */
export function err(data: string): void {
  writeAll(2, data);
}
