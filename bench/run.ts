// `npm run bench`: runs every bench/*.bench.ts in turn (each compares itself with the native tool
// doing the same work in the same run) and prints their tables one after another.

import { readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";

const dir = new URL(".", import.meta.url).pathname;
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n## ${f}\n\n`);
  const r = spawnSync(process.execPath, [dir + f], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`(${f} exited ${r.status})\n`);
  }
}
process.exit(failed ? 1 : 0);
