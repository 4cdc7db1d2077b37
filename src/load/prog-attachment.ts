// A program attached the pre-link way (BPF_PROG_ATTACH) to a cgroup, a sockmap or a netns, as a
// disposable handle: it keeps its own duplicates of the target and program fds, so close() can
// always run the matching BPF_PROG_DETACH even after the caller closed the map or cgroup.

import { TsbpfError } from "../errors.ts";
import { progAttach, progDetach } from "../sys/bpf.ts";
import type { AttachTypeName } from "../sys/constants.ts";
import { SysError } from "../sys/errno.ts";
import { dupFd } from "../sys/netns.ts";
import { closeQuietly } from "./fd.ts";
import type { ProgramLike } from "./link.ts";
import { attachTypeNumber, attachedPrograms } from "./program.ts";
import { targetHint, targetKind } from "./target-hint.ts";

export interface ProgAttachOptions {
  /** BPF_F_ALLOW_OVERRIDE (1), BPF_F_ALLOW_MULTI (2), BPF_F_REPLACE (4) for cgroups. */
  flags?: number;
  /** With BPF_F_REPLACE: the program to replace. */
  replace?: ProgramLike;
  /** What the target is, for messages ("sockmap sock_map", "cgroup /sys/fs/cgroup/x"). */
  what?: string;
}

export class ProgAttachment implements Disposable {
  readonly attachType: number;
  readonly what: string;
  #target: number;
  #prog: number;

  private constructor(target: number, prog: number, attachType: number, what: string) {
    this.#target = target;
    this.#prog = prog;
    this.attachType = attachType;
    this.what = what;
  }

  /** BPF_PROG_ATTACH `prog` to `target` (a map, cgroup or netns fd) for `attachType`. */
  static attach(prog: ProgramLike, target: { fd: number } | number, attachType: AttachTypeName | number, opts: ProgAttachOptions = {}): ProgAttachment {
    const t = attachTypeNumber(attachType);
    if (targetKind(t) === "netns") {
      // The kernel's pre-link netns attach takes no target (it means the caller's own netns) and
      // sk_lookup has none at all; a netns fd only works through a link.
      throw new TsbpfError("LOAD_BAD_INPUT", `attach type ${attachType} has no BPF_PROG_ATTACH form on a namespace fd`, {}, "use Link.netns(prog, netnsFile, attachType)");
    }
    const targetFd = typeof target === "number" ? target : target.fd;
    const what = opts.what ?? `attach type ${attachType} on fd ${targetFd}`;
    const progFd = prog.fd;
    const replaceFd = opts.replace?.fd ?? 0;
    const tDup = dupFd(targetFd);
    let pDup = -1;
    try {
      pDup = dupFd(progFd);
      progAttach({ targetFd: tDup, attachBpfFd: pDup, attachType: t, attachFlags: opts.flags ?? 0, replaceBpfFd: replaceFd });
    } catch (e) {
      closeQuietly(pDup);
      closeQuietly(tDup);
      if (e instanceof SysError && e.command === "PROG_ATTACH") {
        throw new SysError(e.command, e.errno, what, {}, targetHint(targetFd, t, e.errno) ?? e.hint);
      }
      throw e;
    }
    return new ProgAttachment(tDup, pDup, t, what);
  }

  get closed(): boolean {
    return this.#target < 0;
  }

  /** Ids of the programs now attached at this target and attach type (BPF_PROG_QUERY). */
  attached(): number[] {
    return attachedPrograms(this.#target, this.attachType);
  }

  /** BPF_PROG_DETACH this program; a second call does nothing. */
  close(): void {
    const target = this.#target, prog = this.#prog;
    if (target < 0) return;
    this.#target = this.#prog = -1;
    try {
      progDetach({ targetFd: target, attachBpfFd: prog, attachType: this.attachType });
    } catch (e) {
      if (e instanceof SysError) throw new SysError(e.command, e.errno, this.what, {}, e.hint);
      throw e;
    } finally {
      closeQuietly(prog);
      closeQuietly(target);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
