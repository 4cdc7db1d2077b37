// What programs attach to besides perf events: network interfaces (by name → ifindex) and
// files opened for their fd (cgroup directories, network namespaces), as disposable handles.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { TsbpfError } from "../errors.ts";
import { door } from "../sys/door.ts";
import { SysError } from "../sys/errno.ts";
import { FdOwner } from "./fd.ts";

const O_RDONLY = 0, O_DIRECTORY = 0o200000, O_CLOEXEC = 0o2000000;

/** The ifindex of a network interface in this network namespace. */
export function ifIndex(name: string): number {
  const path = `/sys/class/net/${name}/ifindex`;
  if (!/^[^/\s]{1,15}$/.test(name) || !existsSync(path)) {
    throw new TsbpfError("LOAD_BAD_INPUT", `no network interface ${name}`, { file: path }, "list interfaces with `ip link`; XDP and tc attach to an interface of this network namespace");
  }
  return Number(readFileSync(path, "utf8").trim());
}

/** Whether some interface of this network namespace has this ifindex. */
export function ifIndexExists(ifindex: number): boolean {
  if (!existsSync("/sys/class/net")) return false;
  return readdirSync("/sys/class/net").some((n) => {
    try {
      return Number(readFileSync(`/sys/class/net/${n}/ifindex`, "utf8").trim()) === ifindex;
    } catch {
      return false;
    }
  });
}

/** An open file whose fd is an attach target: a cgroup v2 directory, a netns file. */
export class OpenFile extends FdOwner {
  readonly path: string;

  private constructor(fd: number, path: string) {
    super(fd);
    this.path = path;
  }

  protected describe(): string {
    return `file ${this.path}`;
  }

  static open(path: string, directory = false): OpenFile {
    const fd = door().open(path, O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
    if (fd < 0) throw new SysError("open", -fd, path);
    return new OpenFile(fd, path);
  }

  /** A cgroup v2 directory (e.g. /sys/fs/cgroup/unified/my.slice). */
  static cgroup(path: string): OpenFile {
    return OpenFile.open(path, true);
  }
}
