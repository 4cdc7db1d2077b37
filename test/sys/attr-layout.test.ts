// The bpf_attr bytes each command builds equal what C builds from the UAPI header for the same
// field values: clang-19 compiles a program that fills union bpf_attr by field name (Debian's
// /usr/include/linux/bpf.h) and prints it; our commands run against a recording door.
// Fields newer than that header are left zero on both sides.

import { describe, expect, test, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveTool, run } from "../support/env.ts";
import { Recorder } from "./recorder.ts";
import { setDoor } from "../../src/sys/door.ts";
import * as bpf from "../../src/sys/bpf.ts";
import { BPF_CMD, type BpfCmd } from "../../src/sys/constants.ts";

const b = (n: number) => new Uint8Array(n);

interface Case {
  cmd: BpfCmd;
  label: string;
  /** C statements over `union bpf_attr a`. */
  c: string;
  call: () => unknown;
}

const cases: Case[] = [
  {
    cmd: "MAP_CREATE", label: "map_create",
    c: `a.map_type=1; a.key_size=4; a.value_size=8; a.max_entries=100; a.map_flags=0x400; a.inner_map_fd=7; a.numa_node=2;
        strcpy(a.map_name,"counts"); a.map_ifindex=9; a.btf_fd=11; a.btf_key_type_id=12; a.btf_value_type_id=13;
        a.btf_vmlinux_value_type_id=14; a.map_extra=0x1122334455667788ULL;`,
    call: () => bpf.mapCreate({ mapType: 1, keySize: 4, valueSize: 8, maxEntries: 100, mapFlags: 0x400, innerMapFd: 7, numaNode: 2, name: "counts",
      mapIfindex: 9, btfFd: 11, btfKeyTypeId: 12, btfValueTypeId: 13, btfVmlinuxValueTypeId: 14, mapExtra: 0x1122334455667788n }),
  },
  { cmd: "MAP_UPDATE_ELEM", label: "update", c: `a.map_fd=5; a.key=0x10004; a.value=0x10018; a.flags=2;`, call: () => bpf.mapUpdateElem(5, b(4), b(24), 2n) },
  { cmd: "MAP_LOOKUP_ELEM", label: "lookup", c: `a.map_fd=5; a.key=0x10004; a.value=0x10018; a.flags=4;`, call: () => bpf.mapLookupElem(5, b(4), b(24), 4n) },
  { cmd: "MAP_DELETE_ELEM", label: "delete", c: `a.map_fd=5; a.key=0x10006;`, call: () => bpf.mapDeleteElem(5, b(6)) },
  { cmd: "MAP_GET_NEXT_KEY", label: "next_key", c: `a.map_fd=5; a.key=0x10004; a.next_key=0x1000c;`, call: () => bpf.mapGetNextKey(5, b(4), b(12)) },
  { cmd: "MAP_LOOKUP_AND_DELETE_ELEM", label: "pop", c: `a.map_fd=5; a.value=0x10010;`, call: () => bpf.mapLookupAndDeleteElem(5, null, b(16)) },
  { cmd: "MAP_FREEZE", label: "freeze", c: `a.map_fd=5;`, call: () => bpf.mapFreeze(5) },
  {
    cmd: "MAP_LOOKUP_BATCH", label: "batch",
    c: `a.batch.in_batch=0x10008; a.batch.out_batch=0x10009; a.batch.keys=0x10028; a.batch.values=0x10050; a.batch.count=10;
        a.batch.map_fd=6; a.batch.elem_flags=4; a.batch.flags=0;`,
    call: () => bpf.mapBatch("MAP_LOOKUP_BATCH", { fd: 6, inBatch: b(8), outBatch: b(9), keys: b(40), values: b(80), count: 10, elemFlags: 4n }),
  },
  {
    cmd: "PROG_LOAD", label: "prog_load",
    c: `a.prog_type=6; a.insn_cnt=2; a.insns=0x10010; a.license=0x10004; a.log_level=2; a.log_size=256; a.log_buf=0x10100;
        a.kern_version=0x60100; a.prog_flags=1; strcpy(a.prog_name,"xdp_prog"); a.prog_ifindex=3; a.expected_attach_type=37;
        a.prog_btf_fd=8; a.func_info_rec_size=8; a.func_info=0x10018; a.func_info_cnt=3; a.line_info_rec_size=16;
        a.line_info=0x10030; a.line_info_cnt=3; a.attach_btf_id=1234; a.attach_prog_fd=9; a.core_relo_cnt=2;
        a.fd_array=0x10014; a.core_relos=0x10020; a.core_relo_rec_size=16;`,
    call: () => bpf.progLoadRaw({ progType: 6, insns: b(16), license: "GPL", logLevel: 2, logBuf: b(256), kernVersion: 0x60100, progFlags: 1,
      name: "xdp_prog", progIfindex: 3, expectedAttachType: 37, progBtfFd: 8, funcInfoRecSize: 8, funcInfo: b(24), funcInfoCnt: 3,
      lineInfoRecSize: 16, lineInfo: b(48), lineInfoCnt: 3, attachBtfId: 1234, attachFd: 9, coreReloCnt: 2, fdArray: new Int32Array(5),
      coreRelos: b(32), coreReloRecSize: 16 }),
  },
  { cmd: "OBJ_PIN", label: "pin", c: `a.pathname=0x1000e; a.bpf_fd=4;`, call: () => bpf.objPin(4, "/sys/fs/bpf/x") },
  { cmd: "OBJ_GET", label: "get", c: `a.pathname=0x1000f; a.file_flags=8;`, call: () => bpf.objGet("/sys/fs/bpf/xy", 8) },
  {
    cmd: "PROG_ATTACH", label: "attach", c: `a.target_fd=10; a.attach_bpf_fd=11; a.attach_type=2; a.attach_flags=2; a.replace_bpf_fd=12;`,
    call: () => bpf.progAttach({ targetFd: 10, attachBpfFd: 11, attachType: 2, attachFlags: 2, replaceBpfFd: 12 }),
  },
  { cmd: "PROG_DETACH", label: "detach", c: `a.target_fd=10; a.attach_bpf_fd=11; a.attach_type=3;`, call: () => bpf.progDetach({ targetFd: 10, attachBpfFd: 11, attachType: 3 }) },
  {
    cmd: "PROG_TEST_RUN", label: "test_run",
    c: `a.test.prog_fd=5; a.test.data_size_in=60; a.test.data_size_out=316; a.test.data_in=0x1003c; a.test.data_out=0x1013c;
        a.test.repeat=100; a.test.ctx_size_in=24; a.test.ctx_size_out=28; a.test.ctx_in=0x10018; a.test.ctx_out=0x1001c;
        a.test.flags=1; a.test.cpu=1; a.test.batch_size=64;`,
    call: () => bpf.progTestRun({ progFd: 5, dataIn: b(60), dataOut: b(316), repeat: 100, ctxIn: b(24), ctxOut: b(28), flags: 1, cpu: 1, batchSize: 64 }),
  },
  { cmd: "MAP_GET_NEXT_ID", label: "next_id", c: `a.start_id=17;`, call: () => bpf.getNextId("map", 17) },
  { cmd: "PROG_GET_FD_BY_ID", label: "fd_by_id", c: `a.prog_id=42; a.open_flags=8;`, call: () => bpf.getFdById("prog", 42, 8) },
  { cmd: "BTF_GET_FD_BY_ID", label: "btf_fd_by_id", c: `a.btf_id=43;`, call: () => bpf.getFdById("btf", 43) },
  { cmd: "OBJ_GET_INFO_BY_FD", label: "info", c: `a.info.bpf_fd=7; a.info.info_len=88; a.info.info=0x10058;`, call: () => bpf.objGetInfoByFd(7, b(88)) },
  {
    cmd: "PROG_QUERY", label: "query", c: `a.query.target_fd=3; a.query.attach_type=1; a.query.query_flags=1; a.query.prog_ids=0x10018; a.query.prog_cnt=6;`,
    call: () => bpf.progQuery({ targetFd: 3, attachType: 1, queryFlags: 1, progIds: new Uint32Array(6) }),
  },
  { cmd: "RAW_TRACEPOINT_OPEN", label: "raw_tp", c: `a.raw_tracepoint.name=0x1000a; a.raw_tracepoint.prog_fd=5;`, call: () => bpf.rawTracepointOpen("sys_enter", 5) },
  {
    cmd: "BTF_LOAD", label: "btf_load", c: `a.btf=0x10163; a.btf_log_buf=0x10400; a.btf_size=355; a.btf_log_size=1024; a.btf_log_level=1;`,
    call: () => bpf.btfLoadRaw(b(355), b(1024), 1),
  },
  {
    cmd: "LINK_CREATE", label: "link_perf", c: `a.link_create.prog_fd=5; a.link_create.target_fd=6; a.link_create.attach_type=41; a.link_create.perf_event.bpf_cookie=0xabcdef;`,
    call: () => bpf.linkCreate({ progFd: 5, targetFd: 6, attachType: 41, target: { kind: "perf_event", cookie: 0xabcdefn } }),
  },
  {
    cmd: "LINK_CREATE", label: "link_tracing", c: `a.link_create.prog_fd=5; a.link_create.attach_type=24; a.link_create.flags=0; a.link_create.tracing.target_btf_id=77; a.link_create.tracing.cookie=9;`,
    call: () => bpf.linkCreate({ progFd: 5, targetFd: 0, attachType: 24, target: { kind: "tracing", targetBtfId: 77, cookie: 9n } }),
  },
  {
    cmd: "LINK_CREATE", label: "link_iter", c: `a.link_create.prog_fd=5; a.link_create.attach_type=28; a.link_create.iter_info=0x10008; a.link_create.iter_info_len=8;`,
    call: () => bpf.linkCreate({ progFd: 5, targetFd: 0, attachType: 28, target: { kind: "iter", iterInfo: b(8) } }),
  },
  { cmd: "LINK_UPDATE", label: "link_update", c: `a.link_update.link_fd=3; a.link_update.new_prog_fd=4; a.link_update.flags=4; a.link_update.old_prog_fd=5;`, call: () => bpf.linkUpdate(3, 4, 4, 5) },
  { cmd: "LINK_DETACH", label: "link_detach", c: `a.link_detach.link_fd=8;`, call: () => bpf.linkDetach(8) },
  { cmd: "ITER_CREATE", label: "iter_create", c: `a.iter_create.link_fd=4; a.iter_create.flags=0;`, call: () => bpf.iterCreate(4) },
  { cmd: "ENABLE_STATS", label: "stats", c: `a.enable_stats.type=0;`, call: () => bpf.enableStats(0) },
  { cmd: "PROG_BIND_MAP", label: "bind_map", c: `a.prog_bind_map.prog_fd=3; a.prog_bind_map.map_fd=4;`, call: () => bpf.progBindMap(3, 4) },
];

describe.skipIf(!haveTool("clang-19"))("bpf_attr layouts against the UAPI header", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-attr-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("every command's attr bytes and command number equal C's", () => {
    const src = [
      "#include <linux/bpf.h>", "#include <stdio.h>", "#include <string.h>",
      "static void dump(const char *l, int cmd, const void *p) { const unsigned char *b = p; printf(\"%s %d \", l, cmd);",
      "  for (unsigned i = 0; i < sizeof(union bpf_attr); i++) printf(\"%02x\", b[i]); printf(\"\\n\"); }",
      "int main(void) { union bpf_attr a;",
      ...cases.map((k) => `  memset(&a, 0, sizeof a); { ${k.c} } dump("${k.label}", BPF_${k.cmd}, &a);`),
      "  return 0; }",
    ].join("\n");
    writeFileSync(join(dir, "attr.c"), src);
    run("clang-19", ["-O1", "-o", join(dir, "attr"), join(dir, "attr.c")]);
    const cOut = new Map(run(join(dir, "attr"), []).trim().split("\n").map((l) => {
      const [label, cmd, hex] = l.split(" ");
      return [label, { cmd: Number(cmd), bytes: Uint8Array.from(Buffer.from(hex, "hex")) }];
    }));

    const rec = new Recorder();
    const prev = setDoor(rec);
    try {
      for (const k of cases) {
        rec.calls.length = 0;
        k.call();
        const call = rec.calls.find((c) => c.nr === bpf.NR_BPF)!;
        const want = cOut.get(k.label)!;
        expect([k.label, call.args[0]]).toEqual([k.label, want.cmd]);
        expect(BPF_CMD[k.cmd]).toBe(want.cmd);
        const ours = call.attr!;
        const theirs = new Uint8Array(Math.max(ours.byteLength, want.bytes.byteLength));
        theirs.set(want.bytes);
        expect([k.label, Buffer.from(ours).toString("hex")]).toEqual([k.label, Buffer.from(theirs.subarray(0, ours.byteLength)).toString("hex")]);
        // Nothing C set lies beyond the size we pass.
        expect([k.label, theirs.subarray(ours.byteLength).every((x) => x === 0)]).toEqual([k.label, true]);
      }
    } finally {
      setDoor(prev);
    }
  });
});
