// The error types every module throws for bad input. One base class with a machine-readable code,
// a position ("where") and a hint saying what to do; the CLI prints all three and exits 2.

/** A position in some input: a byte offset in a file, a line:column in text, or an instruction index. */
export interface Where {
  file?: string;
  offset?: number;
  line?: number;
  column?: number;
  insn?: number;
  section?: string;
}

export type ErrorCode =
  | "ASM_DECODE"
  | "ASM_ENCODE"
  | "ASM_SYNTAX"
  | "ASM_LINK"
  | "ELF_BAD_HEADER"
  | "ELF_BAD_SECTION"
  | "ELF_BAD_SYMBOL"
  | "ELF_BAD_RELOCATION"
  | "ELF_UNSUPPORTED"
  | "OBJ_BAD_MAP"
  | "OBJ_BAD_PROGRAM"
  | "BTF_BAD_HEADER"
  | "BTF_BAD_TYPE"
  | "BTF_BAD_STRING"
  | "BTF_BAD_EXT"
  | "BTF_NOT_FOUND"
  | "CORE_RELO"
  | "LINK_UNRESOLVED"
  | "KCONFIG"
  | "IO"
  | "USAGE"
  | "SYS"
  | "VERIFIER"
  | "LOAD_BAD_INPUT" | "LOAD_CLOSED";

export class TsbpfError extends Error {
  readonly code: ErrorCode;
  readonly where: Where;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, where: Where = {}, hint?: string) {
    super(message);
    this.name = "TsbpfError";
    this.code = code;
    this.where = where;
    this.hint = hint;
  }

  /** "file:line:col: message" or "file+0x1c: message", then the hint on its own line. */
  describe(): string {
    const at = formatWhere(this.where);
    const head = at ? `${at}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

export function formatWhere(w: Where): string {
  const parts: string[] = [];
  if (w.file !== undefined) {
    let s = w.file;
    if (w.line !== undefined) s += `:${w.line}` + (w.column !== undefined ? `:${w.column}` : "");
    parts.push(s);
  } else if (w.line !== undefined) {
    parts.push(`line ${w.line}` + (w.column !== undefined ? `:${w.column}` : ""));
  }
  if (w.section !== undefined) parts.push(`section ${w.section}`);
  if (w.offset !== undefined) parts.push(`offset 0x${w.offset.toString(16)}`);
  if (w.insn !== undefined) parts.push(`insn ${w.insn}`);
  return parts.join(", ");
}

export function isTsbpfError(e: unknown): e is TsbpfError {
  return e instanceof TsbpfError;
}
