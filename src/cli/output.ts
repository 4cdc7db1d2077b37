// Writing to stdout and stderr for the CLI: synchronous writes straight to fds 1 and 2.
// Why not process.stdout: in Bun 1.4 merely touching it costs ~33 ms of start-up (it builds a
// Node stream), more than the whole of a small disassembly; and a synchronous write is flushed
// before process.exit, so a large listing into a pipe is never cut short.

import { writeSync } from "node:fs";

const encoder = new TextEncoder();

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

/** Write text to stderr. */
export function err(data: string): void {
  writeAll(2, data);
}
