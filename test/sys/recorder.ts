// A Door that records every system call instead of making it: the attr bytes each bpf() command
// would hand the kernel, with fake but predictable buffer addresses (0x10000 + byte length).

import type { Door } from "../../src/sys/door.ts";
import { ATTR_BYTES } from "../../src/sys/attr.ts";

export interface Recorded {
  nr: number;
  args: (number | bigint)[];
  /** bytes [0, size) of the attr buffer when the second argument points at it (bpf()). */
  attr?: Uint8Array;
}

export const ATTR_ADDR = 0xa77000;
export const fakeAddress = (buf: ArrayBufferView) => (buf.byteLength === ATTR_BYTES ? ATTR_ADDR : 0x10000 + buf.byteLength);

export class Recorder implements Door {
  readonly calls: Recorded[] = [];
  private readonly buffers = new Map<number, ArrayBufferView>();
  /** What syscall() returns. */
  result = 3;

  syscall(nr: number, ...args: (number | bigint | undefined)[]): number {
    const a = args.filter((x): x is number | bigint => x !== undefined);
    const rec: Recorded = { nr, args: a };
    const buf = this.buffers.get(Number(a[1]));
    if (nr === 321 && buf !== undefined) {
      rec.attr = new Uint8Array(buf.buffer, buf.byteOffset, Number(a[2])).slice();
    }
    this.calls.push(rec);
    return this.result;
  }
  address(buf: ArrayBufferView): number {
    const addr = fakeAddress(buf);
    this.buffers.set(addr, buf);
    return addr;
  }
  view(): Uint8Array {
    throw new Error("recorder: no memory");
  }
  mmap(): number {
    return -12;
  }
  munmap(): number {
    return 0;
  }
  ioctl(): number {
    return 0;
  }
  open(): number {
    return this.result;
  }
  close(): number {
    return 0;
  }
  epollCreate(): number {
    return this.result;
  }
  epollCtl(): number {
    return 0;
  }
  epollWait(): number {
    return 0;
  }
}
