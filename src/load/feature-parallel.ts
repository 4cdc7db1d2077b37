// Helper probing on more than one CPU: thousands of PROG_LOADs, each the kernel's work, so a second
// thread nearly halves the wait. The main thread and worker threads take jobs (one program type
// each) from one shared counter, so a worker that starts late, or not at all (no Worker here, or a
// build without feature-worker.ts), only leaves more jobs to the main thread; nothing is lost.

import { availableParallelism, loadavg } from "node:os";
import { probeHelpers, type Probe } from "./feature.ts";

export interface HelperJob {
  type: number;
  ids: number[];
}

export type WorkerReply = { kind: "result"; index: number; probes: Probe[] } | { kind: "done" };

/** Longest wait for a worker that has claimed a job (one job is ~200 loads, milliseconds each). */
const WORKER_TIMEOUT_MS = 30_000;

function canThread(): boolean {
  return typeof Worker !== "undefined" && typeof SharedArrayBuffer !== "undefined" && typeof Atomics !== "undefined";
}

/**
 * Threads worth using now: one, plus one per CPU the 1-minute load average leaves idle (at most 4).
 * On a busy machine a second thread only adds its start-up to the same CPU time.
 */
export function defaultThreads(): number {
  const idle = Math.floor(availableParallelism() - loadavg()[0]);
  return 1 + Math.max(0, Math.min(3, idle));
}

/** Terminate a worker and wait until it is gone (its event loop's fds closed) — at most a second. */
function stop(w: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000);
    w.addEventListener("close", () => {
      clearTimeout(timer);
      resolve();
    });
    w.terminate();
  });
}

export interface ParallelOptions {
  /** The worker script (tests point it at a missing file to see the fallback). */
  workerUrl?: string;
  /** Filled in: how many jobs worker threads answered. */
  stats?: { workerJobs: number };
}

/** probeHelpers for each job, on up to `threads` threads (the main one included). */
export async function probeHelpersParallel(jobs: readonly HelperJob[], threads: number, o: ParallelOptions = {}): Promise<Probe[][]> {
  const workerUrl = o.workerUrl ?? new URL("./feature-worker.ts", import.meta.url).href;
  const stats = o.stats ?? { workerJobs: 0 };
  if (threads <= 1 || jobs.length < 2 || !canThread()) return jobs.map((j) => probeHelpers(j.type, j.ids));
  const results: (Probe[] | undefined)[] = new Array(jobs.length);
  const next = new Int32Array(new SharedArrayBuffer(4));
  const workers: Worker[] = [];
  const finished: Promise<void>[] = [];
  for (let i = 1; i < threads; i++) {
    let w: Worker;
    try {
      w = new Worker(workerUrl);
    } catch {
      break;
    }
    workers.push(w);
    finished.push(new Promise<void>((resolve) => {
      w.onmessage = (e: MessageEvent) => {
        const m = e.data as WorkerReply;
        if (m.kind === "result") {
          results[m.index] = m.probes;
          stats.workerJobs++;
        } else resolve();
      };
      // A worker that cannot start, fails or exits: the jobs it did not report are redone below.
      w.onerror = () => resolve();
      w.addEventListener("close", () => resolve());
    }));
    w.postMessage({ next, jobs });
  }
  for (;;) {
    const index = Atomics.add(next, 0, 1);
    if (index >= jobs.length) break;
    results[index] = probeHelpers(jobs[index].type, jobs[index].ids);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.all(finished), new Promise<void>((r) => (timer = setTimeout(r, WORKER_TIMEOUT_MS)))]);
  clearTimeout(timer);
  await Promise.all(workers.map(stop));
  return jobs.map((j, i) => results[i] ?? probeHelpers(j.type, j.ids));
}
