// The part of elfy's (untyped, CommonJS) result that we read. elfy maps numbers to names where it
// knows them and leaves them as numbers otherwise; e_machine 247 (BPF) is unknown to it.
declare module "elfy" {
  export interface ElfyHeader {
    class: string | undefined;
    endian: string | undefined;
    type: string | undefined;
    machine: string | undefined;
    version: number;
    entry: number;
    phoff: number;
    shoff: number;
    flags: number;
    ehsize: number;
    phentsize: number;
    phnum: number;
    shentsize: number;
    shnum: number;
    shstrndx: number;
  }
  export interface ElfySection {
    name: string;
    type: string | number;
    flags: Record<string, boolean>;
    addr: number;
    off: number;
    size: number;
    link: number;
    info: number;
    data: Buffer;
  }
  export interface ElfyFile extends ElfyHeader {
    body: { programs: unknown[]; sections: ElfySection[] };
  }
  export function parse(buf: Buffer): ElfyFile;
  const elfy: { parse: typeof parse };
  export default elfy;
}
