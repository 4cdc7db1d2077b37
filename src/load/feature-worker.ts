// A worker thread for feature-parallel.ts: takes helper-probe jobs (one program type each) from the
// shared counter until none are left, posting each job's verdicts, then says it is done.

import { probeHelpers } from "./feature.ts";
import type { HelperJob, WorkerReply } from "./feature-parallel.ts";

declare const self: { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: WorkerReply): void };

self.onmessage = (e: MessageEvent) => {
  const { next, jobs } = e.data as { next: Int32Array; jobs: HelperJob[] };
  for (;;) {
    const index = Atomics.add(next, 0, 1);
    if (index >= jobs.length) break;
    self.postMessage({ kind: "result", index, probes: probeHelpers(jobs[index].type, jobs[index].ids) });
  }
  self.postMessage({ kind: "done" });
};
