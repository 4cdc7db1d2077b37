// A streaming JSON writer with bpftool's output conventions: compact (`-j`) or pretty (the layout
// bpftool uses for BTF-formatted map dumps: four-space indent, `"name": value`, `},{` between
// array elements), and its string escaping (bpftool 7.1 writes a backslash as `\n` and leaves apostrophes alone).

export class JsonWriter {
  private text = "";
  private depth = 0;
  /** Whether the next item at this level needs a comma before it (bpftool's `sep`). */
  private comma = false;

  constructor(readonly pretty: boolean) {}

  private separate(): void {
    if (this.comma) this.text += ",";
    this.comma = true;
  }

  private newline(): void {
    if (this.pretty) this.text += "\n" + "    ".repeat(this.depth);
  }

  private open(c: string): void {
    this.separate();
    this.text += c;
    this.depth++;
    this.comma = false;
  }

  private close(c: string): void {
    this.depth--;
    if (this.comma) this.newline();
    this.text += c;
    this.comma = true;
  }

  startObject(): void { this.open("{"); }
  endObject(): void { this.close("}"); }
  startArray(): void { this.open("["); }
  endArray(): void { this.close("]"); }

  /** A member name; the value written next belongs to it. */
  name(n: string): void {
    this.separate();
    this.newline();
    this.comma = false;
    this.text += quote(n) + (this.pretty ? ": " : ":");
  }

  /** A value written as given (numbers, `true`, pre-quoted text). */
  raw(v: string): void {
    this.separate();
    this.text += v;
  }

  string(s: string): void {
    this.raw(quote(s));
  }

  /** Text written around the JSON (bpftool prints hex entries and errors into the same stream). */
  verbatim(s: string): void {
    this.text += s;
  }

  /** Everything written, with the final newline bpftool prints when it closes a writer. */
  finish(): string {
    return this.text + "\n";
  }

  /** Everything written so far. */
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f", "\b": "\\b",
  // bpftool's writer maps a backslash to "\n": reproduced so that outputs compare equal.
  "\\": "\\n", "\"": "\\\"",
};

/** bpftool's quoting: C escapes for a few characters, everything else byte for byte. */
export function quote(s: string): string {
  return `"${s.replace(/[\t\n\r\f\b\\"]/g, (c) => ESCAPES[c])}"`;
}
