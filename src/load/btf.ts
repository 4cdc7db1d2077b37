// A BTF object loaded into the kernel (BPF_BTF_LOAD of raw .BTF bytes), or opened by id (kernel
// and module BTF included): the fd maps and programs name with btf_fd / prog_btf_fd.

import { getFdById } from "../sys/bpf.ts";
import { btfData, btfInfo, type BtfInfo } from "../sys/info.ts";
import { btfLoad } from "../sys/progload.ts";
import { FdOwner, closeQuietly } from "./fd.ts";

export class BtfHandle extends FdOwner {
  readonly id: number;
  /** The kernel's log when a log level was asked for. */
  readonly log: string;

  private constructor(fd: number, id: number, log: string) {
    super(fd);
    this.id = id;
    this.log = log;
  }

  protected describe(): string {
    return `BTF id ${this.id}`;
  }

  static fromFd(fd: number, log = ""): BtfHandle {
    try {
      return new BtfHandle(fd, btfInfo(fd).id, log);
    } catch (e) {
      closeQuietly(fd);
      throw e;
    }
  }

  /** Load raw BTF (header, types, strings); a rejection is a SysError whose `log` is the kernel's. */
  static load(bytes: Uint8Array, opts: { logLevel?: number; logSize?: number } = {}): BtfHandle {
    const { fd, log } = btfLoad(bytes, opts);
    return BtfHandle.fromFd(fd, log);
  }

  static fromId(id: number): BtfHandle {
    return BtfHandle.fromFd(getFdById("btf", id));
  }

  info(): BtfInfo {
    return btfInfo(this.fd);
  }

  /** The BTF bytes as the kernel holds them. */
  data(): Uint8Array {
    return btfData(this.fd);
  }
}
