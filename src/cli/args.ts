// A small argument parser: flags with values, boolean flags and positionals, with usage errors
// as TsbpfError(USAGE) so the CLI exits 2 with a message instead of a stack trace.

import { TsbpfError } from "../errors.ts";

export interface ArgSpec {
  /** Flags that take a value, e.g. ["-o", "--section"]. */
  values?: string[];
  /** Boolean flags, e.g. ["--json"]. */
  booleans?: string[];
  /** Flags that may repeat; their values collect into an array. */
  repeated?: string[];
  /** Short aliases: { "-o": "--output" }. */
  aliases?: Record<string, string>;
}

export interface ParsedArgs {
  positionals: string[];
  values: Map<string, string>;
  lists: Map<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(argv: string[], spec: ArgSpec, command: string): ParsedArgs {
  const out: ParsedArgs = { positionals: [], values: new Map(), lists: new Map(), flags: new Set() };
  const valueFlags = new Set([...(spec.values ?? []), ...(spec.repeated ?? [])]);
  const boolFlags = new Set(spec.booleans ?? []);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline: string | undefined;
    if (a.startsWith("--") && a.includes("=")) {
      inline = a.slice(a.indexOf("=") + 1);
      a = a.slice(0, a.indexOf("="));
    }
    a = spec.aliases?.[a] ?? a;
    if (valueFlags.has(a)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new TsbpfError("USAGE", `${command}: ${a} needs a value`, {}, `see 'tsbpf ${command} --help'`);
      if (spec.repeated?.includes(a)) out.lists.set(a, [...(out.lists.get(a) ?? []), v]);
      else out.values.set(a, v);
    } else if (boolFlags.has(a)) {
      out.flags.add(a);
    } else if (a.startsWith("-") && a !== "-") {
      throw new TsbpfError("USAGE", `${command}: unknown option ${a}`, {}, `see 'tsbpf ${command} --help'`);
    } else {
      out.positionals.push(argv[i]);
    }
  }
  return out;
}
