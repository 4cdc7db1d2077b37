// Why an attach to a map, netns or cgroup fd failed, in the target's terms: the kernel answers
// EINVAL/EBADF for a target of the wrong kind, so we look at what the fd really is and say so.

import { readlinkSync, statSync } from "node:fs";
import { ATTACH_TYPE, MAP_TYPE } from "../sys/constants.ts";
import { mapTypeName } from "../elf/uapi.ts";
import { mapInfo } from "../sys/info.ts";
import { door } from "../sys/door.ts";
import { CLONE_NEWNET } from "../sys/netns.ts";

/** ioctl NS_GET_NSTYPE = _IO(0xb7, 0x3) (include/uapi/linux/nsfs.h): a namespace fd's CLONE_NEW* kind. */
const NS_GET_NSTYPE = 0xb703;

type TargetKind = "sockmap" | "netns" | "cgroup";

const SOCKMAP_TYPES: ReadonlySet<number> = new Set([
  ATTACH_TYPE.SK_SKB_STREAM_PARSER, ATTACH_TYPE.SK_SKB_STREAM_VERDICT, ATTACH_TYPE.SK_SKB_VERDICT, ATTACH_TYPE.SK_MSG_VERDICT,
]);
const NETNS_TYPES: ReadonlySet<number> = new Set([ATTACH_TYPE.SK_LOOKUP, ATTACH_TYPE.FLOW_DISSECTOR]);
/** Attach types whose target is a cgroup (kernel/bpf/cgroup.c, to_cgroup_bpf_attach_type). */
const CGROUP_TYPES: ReadonlySet<number> = new Set(
  (Object.entries(ATTACH_TYPE) as [string, number][]).filter(([n]) => n.startsWith("CGROUP_") || n === "LSM_CGROUP").map(([, v]) => v),
);

/** What kind of target an attach type needs, for the types whose target is a map, netns or cgroup. */
export function targetKind(attachType: number): TargetKind | undefined {
  if (SOCKMAP_TYPES.has(attachType)) return "sockmap";
  if (NETNS_TYPES.has(attachType)) return "netns";
  if (CGROUP_TYPES.has(attachType)) return "cgroup";
  return undefined;
}

/** What an fd refers to, in a few words: "not open", "map ARRAY", "netns", "directory /x", "socket"… */
export function describeFd(fd: number): string {
  let link: string;
  try {
    link = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return "not open";
  }
  if (link === "anon_inode:bpf-map") {
    try {
      return `map ${mapTypeName(mapInfo(fd).type)}`;
    } catch {
      return "map";
    }
  }
  if (link.startsWith("anon_inode:")) return link.slice("anon_inode:".length);
  if (link.startsWith("net:[")) return "netns";
  if (link.startsWith("socket:[")) return "socket";
  try {
    const st = statSync(link);
    if (st.isDirectory()) return `directory ${link}`;
    if (st.isCharacterDevice() || st.isBlockDevice()) return `device ${link}`;
  } catch {
    return link;
  }
  // A namespace opened through a bind mount (/var/run/netns/NAME) reads back as that path: ask nsfs.
  return door().ioctl(fd, NS_GET_NSTYPE, 0) === CLONE_NEWNET ? "netns" : `file ${link}`;
}

/** A hint when the target fd is not the kind `attachType` needs; undefined when it is. */
export function targetHint(fd: number, attachType: number, errno: number): string | undefined {
  const kind = targetKind(attachType);
  const is = describeFd(fd);
  if (is === "not open") return `target fd ${fd} is not open (closed before the attach?)`;
  switch (kind) {
    case "sockmap":
      if (is === `map ${mapTypeName(MAP_TYPE.SOCKMAP)}` || is === `map ${mapTypeName(MAP_TYPE.SOCKHASH)}`) {
        return errno === 16 ? "a sockmap holds one program per attach type, and a stream verdict and an sk_skb/verdict exclude each other" : undefined;
      }
      return `sk_skb and sk_msg programs attach to a SOCKMAP or SOCKHASH map; target fd ${fd} is ${is === "map" || is.startsWith("map ") ? `a ${is}` : is}`;
    case "netns":
      if (is === "netns") {
        // netns_bpf_link_attach answers E2BIG, the old PROG_ATTACH path EEXIST.
        return (errno === 7 || errno === 17) && attachType === ATTACH_TYPE.FLOW_DISSECTOR ? "a network namespace holds one flow dissector; close the link that is there first" : undefined;
      }
      return `sk_lookup and flow_dissector programs attach to a network namespace (open /proc/self/ns/net or /var/run/netns/NAME); target fd ${fd} is ${is}`;
    case "cgroup":
      if (is.startsWith("directory ")) return undefined;
      return `cgroup programs attach to a cgroup v2 directory; target fd ${fd} is ${is}`;
    default:
      return undefined;
  }
}
