// BPF_PROG_LOAD and BPF_BTF_LOAD with their logs: load, and when the kernel rejects, reload with a
// log; when the log is truncated (ENOSPC), reload with a buffer as large as the kernel says it
// needs, so callers always see the whole log. Rejections become VerifierError.

import { TsbpfError } from "../errors.ts";
import { btfLoadRaw, progLoadRaw, type ProgLoadAttrs } from "./bpf.ts";
import { LOG, MAX_LOG_SIZE } from "./constants.ts";
import { EAGAIN, ENOSPC, SysError, errnoName } from "./errno.ts";

export interface ProgLoadOptions extends Omit<ProgLoadAttrs, "logBuf" | "logLevel"> {
  /** 0 (default): no log unless the load fails, then level 1. LOG.LEVEL1/LEVEL2 | LOG.STATS. */
  logLevel?: number;
  /** First log buffer size in bytes (≥ 128, the kernel's minimum); grown on truncation. */
  logSize?: number;
}

export interface Loaded {
  fd: number;
  /** The verifier log when a log level was asked for, else "". */
  log: string;
}

/** The kernel rejected a program: the whole log, its summary line and the failing instruction. */
export class VerifierError extends TsbpfError {
  readonly errno: number;
  readonly errnoName: string;
  readonly log: string;
  readonly summary: string;
  /** Every line of the reason (some rejections take two or three lines). */
  readonly errorLines: string[];
  /** How many log-buffer sizes were tried (> 1 when the log had to be reloaded bigger). */
  readonly attempts: number;

  constructor(errno: number, log: string, attempts: number, name?: string) {
    const summary = logSummary(log);
    const insn = failingInsn(log);
    super(
      "VERIFIER",
      `${name ? `program ${name}: ` : ""}the verifier rejected the program (${errnoName(errno)}): ${summary}`,
      insn === undefined ? {} : { insn },
      "read the verifier log (error.log) from the bottom up: the state before the failing instruction says why",
    );
    this.name = "VerifierError";
    this.errno = errno;
    this.errnoName = errnoName(errno);
    this.log = log;
    this.summary = summary;
    this.errorLines = errorLines(log);
    this.attempts = attempts;
  }
}

const DEFAULT_LOG_SIZE = 64 * 1024;
const MIN_LOG_SIZE = 128;

// Lines the kernel appends after the verdict: statistics, not the reason.
const STATS_LINE = /^(processed \d+ insns|verification time|stack depth|max_states_per_insn|mark_read)/;
const INSN_LINE = /^\d+: \([0-9a-f]{2}\)/;

/**
 * The lines that say why: those after the last instruction the log shows being checked, minus
 * the statistics the kernel appends. Falls back to the last non-statistics line.
 */
export function errorLines(log: string): string[] {
  const lines = log.split("\n").map((l) => l.trimEnd()).filter((l) => l.length > 0);
  let lastInsn = -1;
  for (let i = 0; i < lines.length; i++) if (INSN_LINE.test(lines[i])) lastInsn = i;
  const after = lines.slice(lastInsn + 1).filter((l) => !STATS_LINE.test(l));
  if (after.length > 0) return after;
  const rest = lines.filter((l) => !STATS_LINE.test(l));
  return rest.length ? [rest[rest.length - 1]] : [];
}

/** The first line that says why (what bpftool users read first). */
export function logSummary(log: string): string {
  return errorLines(log)[0] ?? "(empty log)";
}

/** The index of the last instruction the log shows being checked ("12: (85) call …"). */
export function failingInsn(log: string): number | undefined {
  const m = [...log.matchAll(new RegExp(INSN_LINE.source, "gm"))];
  return m.length ? Number(/^\d+/.exec(m[m.length - 1][0])![0]) : undefined;
}

function decodeLog(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}

/** Grow after ENOSPC: the kernel's true size (6.4+), else four times the old one; capped. */
function nextSize(size: number, trueSize: number): number {
  const want = trueSize > size ? trueSize : size * 4;
  return Math.min(MAX_LOG_SIZE, want);
}

/** libbpf's attempts at PROG_LOAD while the kernel answers EAGAIN. */
const EAGAIN_ATTEMPTS = 5;

/**
 * PROG_LOAD, repeated while it fails with EAGAIN: the verifier gives up with EAGAIN when a signal
 * arrives during verification (a child exiting, a profiler's timer), as libbpf knows and retries.
 */
function progLoadRetrying(a: ProgLoadAttrs): { ret: number; logTrueSize: number } {
  let r = progLoadRaw(a);
  for (let n = 1; r.ret === -EAGAIN && n < EAGAIN_ATTEMPTS; n++) {
    if (a.logBuf) a.logBuf.fill(0);
    r = progLoadRaw(a);
  }
  return r;
}

/** Load a program; throws VerifierError (rejected with a log) or SysError (no log: EPERM, E2BIG…). */
export function progLoad(o: ProgLoadOptions): Loaded {
  const { logLevel = 0, logSize = DEFAULT_LOG_SIZE, ...attrs } = o;
  if (logLevel === 0) {
    const r = progLoadRetrying({ ...attrs, logLevel: 0, logBuf: null });
    if (r.ret >= 0) return { fd: r.ret, log: "" };
  }
  const level = logLevel === 0 ? LOG.LEVEL1 : logLevel;
  let size = Math.max(MIN_LOG_SIZE, logSize);
  for (let attempt = 1; ; attempt++) {
    const buf = new Uint8Array(size);
    const r = progLoadRetrying({ ...attrs, logLevel: level, logBuf: buf });
    const log = decodeLog(buf);
    if (r.ret >= 0) return { fd: r.ret, log: logLevel === 0 ? "" : log };
    const errno = -r.ret;
    const truncated = errno === ENOSPC && (r.logTrueSize > size || log.length >= size - 1);
    if (truncated && size < MAX_LOG_SIZE) {
      size = nextSize(size, r.logTrueSize);
      continue;
    }
    if (log.length === 0) throw new SysError("PROG_LOAD", errno, o.name ? `program ${o.name}` : "");
    throw new VerifierError(errno, log, attempt, o.name);
  }
}

/** Load BTF; a rejection is a SysError whose `log` holds the kernel's BTF log. */
export function btfLoad(btf: Uint8Array, opts: { logLevel?: number; logSize?: number } = {}): Loaded {
  const level = opts.logLevel ?? 0;
  if (level === 0) {
    const r = btfLoadRaw(btf, null, 0);
    if (r.ret >= 0) return { fd: r.ret, log: "" };
  }
  let size = Math.max(MIN_LOG_SIZE, opts.logSize ?? DEFAULT_LOG_SIZE);
  for (;;) {
    const buf = new Uint8Array(size);
    const r = btfLoadRaw(btf, buf, level === 0 ? 1 : level);
    const log = decodeLog(buf);
    if (r.ret >= 0) return { fd: r.ret, log: level === 0 ? "" : log };
    const errno = -r.ret;
    if (errno === ENOSPC && (r.logTrueSize > size || log.length >= size - 1) && size < MAX_LOG_SIZE) {
      size = nextSize(size, r.logTrueSize);
      continue;
    }
    const err = new SysError("BTF_LOAD", errno, logSummary(log));
    err.log = log;
    throw err;
  }
}
