// Which tsbpf the whole-process benchmarks time: the compiled binary `npm run build` makes
// (dist/tsbpf, what users install), else `bun src/cli/tsbpf.ts`. TSBPF_BIN overrides both.

import { existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
const compiled = process.env.TSBPF_BIN ?? join(ROOT, "dist/tsbpf");

/** The executable, and the arguments that come before the subcommand. */
export const tsbpfExe: string = existsSync(compiled) ? compiled : process.execPath;
export const tsbpfPre: string[] = existsSync(compiled) ? [] : [join(ROOT, "src/cli/tsbpf.ts")];
export const tsbpfLabel = existsSync(compiled) ? compiled.replace(ROOT, "") : "bun src/cli/tsbpf.ts";
