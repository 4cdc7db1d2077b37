// The base of every object that owns a kernel file descriptor: close() once (a second call does
// nothing), Symbol.dispose for `using`, and a typed error when a closed object is used.

import { TsbpfError } from "../errors.ts";
import { door } from "../sys/door.ts";
import { SysError } from "../sys/errno.ts";

export abstract class FdOwner implements Disposable {
  #fd: number;
  /** What the object is, for error messages ("map counts", "program xdp_drop"). */
  protected abstract describe(): string;

  constructor(fd: number) {
    this.#fd = fd;
  }

  get fd(): number {
    if (this.#fd < 0) {
      throw new TsbpfError("LOAD_CLOSED", `${this.describe()} is closed`, {}, "the object was closed (or disposed by `using`) before this use");
    }
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    const r = door().close(fd);
    this.afterClose();
    if (r < 0) throw new SysError("close", -r, `${this.describe()} fd ${fd}`);
  }

  /** Release what else the object holds (a link's perf event fd, an mmap) once its fd is closed. */
  protected afterClose(): void {}

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Close fds already opened when a later step of building an object fails. */
export function closeQuietly(fd: number): void {
  if (fd >= 0) door().close(fd);
}
