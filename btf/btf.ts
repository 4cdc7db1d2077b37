// The Btf container: types indexed by id (0 = void), the string table, lookups by name and kind,
// and split BTF (a base whose ids this one continues). Parsed BTF keeps the raw type words and an
// offset per type, and decodes a record into its model object on first access (btf/records.ts).

import { TsbpfError } from "../src/errors.ts";
import { decodeRecord } from "./records.ts";
import { StringTable } from "./strings.ts";
import { KIND_NAMES, type BtfKind, type BtfType, type BtfTypeOf, type Endian, type BtfVoid } from "./types.ts";

export const VOID: BtfVoid = Object.freeze({ kind: "void", id: 0, name: "", nameOff: 0 }) as BtfVoid;

/** The raw type section behind a parsed Btf: host-order words and each own type's word index. */
export interface RawTypes {
  words: Uint32Array;
  /** offsets[i] = word index of own type i (id firstId + i); offsets[count] = words.length. */
  offsets: Uint32Array;
  /** File offset of word 0, for error positions. */
  fileOffset: number;
}

/** Where the sections sat in the parsed blob, so the encoder can reproduce the layout. */
export interface BtfLayout {
  hdrLen: number;
  /** Strings before types (legal, rare). */
  stringsFirst: boolean;
  /** The kind-layout section's bytes and whether it came before the types and the strings. */
  kindLayout?: { bytes: Uint8Array; beforeTypes: boolean; beforeStrings: boolean };
}

export interface BtfInit {
  strings: StringTable;
  base?: Btf;
  endian?: Endian;
  layout?: BtfLayout;
}

export class Btf {
  readonly base: Btf | undefined;
  readonly strings: StringTable;
  readonly endian: Endian;
  readonly layout: BtfLayout;
  /** Id of this BTF's first own type: 1, or the base's typeCount for split BTF. */
  readonly firstId: number;
  private raw: RawTypes | undefined;
  private cache: (BtfType | undefined)[];
  private ownCount: number;
  private nameIndex: Map<string, number[]> | undefined;

  private constructor(init: BtfInit, raw: RawTypes | undefined, types: BtfType[]) {
    this.base = init.base;
    this.strings = init.strings;
    this.endian = init.endian ?? init.base?.endian ?? "little";
    this.layout = init.layout ?? { hdrLen: 24, stringsFirst: false };
    this.firstId = init.base ? init.base.typeCount : 1;
    this.raw = raw;
    if (raw) {
      this.ownCount = raw.offsets.length - 1;
      this.cache = new Array(this.ownCount);
    } else {
      this.ownCount = types.length;
      this.cache = types;
    }
  }

  /** A Btf over a raw type section (used by parse). */
  static fromRaw(init: BtfInit, raw: RawTypes): Btf {
    return new Btf(init, raw, []);
  }

  /** A Btf from model objects; their ids must run from firstId upward in order. */
  static fromTypes(types: BtfType[], init: Partial<BtfInit> = {}): Btf {
    const strings = init.strings ?? StringTable.empty(init.base?.strings);
    const btf = new Btf({ ...init, strings }, undefined, []);
    for (const t of types) btf.add(t);
    return btf;
  }

  /** Number of ids in use, void and base included: valid ids are 0 .. typeCount-1. */
  get typeCount(): number {
    return this.firstId + this.ownCount;
  }

  /** Number of types this BTF itself holds (not counting void or the base). */
  get ownTypeCount(): number {
    return this.ownCount;
  }

  /** The type with this id (decoded on first access). Throws BTF_NOT_FOUND for an unknown id. */
  type(id: number): BtfType {
    if (id >= this.firstId) {
      const i = id - this.firstId;
      if (i < this.ownCount) {
        const hit = this.cache[i];
        if (hit) return hit;
        const raw = this.raw as RawTypes;
        const t = decodeRecord(raw.words, raw.offsets[i], id, this.strings);
        this.cache[i] = t;
        return t;
      }
    } else if (id === 0) {
      return VOID;
    } else if (this.base) {
      return this.base.type(id);
    }
    throw new TsbpfError("BTF_NOT_FOUND", `no BTF type with id ${id} (ids run to ${this.typeCount - 1})`);
  }

  /** The type with this id if it has the given kind, else undefined. */
  typeAs<K extends BtfKind>(id: number, kind: K): BtfTypeOf<K> | undefined {
    if (!this.has(id) || this.kindOf(id) !== kind) return undefined;
    return this.type(id) as BtfTypeOf<K>;
  }

  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.typeCount;
  }

  /** The kind of a type without decoding its record. */
  kindOf(id: number): BtfKind {
    if (id === 0) return "void";
    if (id < this.firstId) {
      if (this.base) return this.base.kindOf(id);
    } else if (id - this.firstId < this.ownCount) {
      const i = id - this.firstId;
      const hit = this.cache[i];
      if (hit) return hit.kind;
      const raw = this.raw as RawTypes;
      return KIND_NAMES[(raw.words[raw.offsets[i] + 1] >>> 24) & 0x1f];
    }
    return this.type(id).kind;
  }

  /** The name of a type without decoding its record ("" for anonymous). */
  nameOf(id: number): string {
    if (id === 0) return "";
    if (id < this.firstId) {
      if (this.base) return this.base.nameOf(id);
    } else if (id - this.firstId < this.ownCount) {
      const i = id - this.firstId;
      const hit = this.cache[i];
      if (hit) return hit.name;
      const raw = this.raw as RawTypes;
      return this.strings.get(raw.words[raw.offsets[i]]);
    }
    return this.type(id).name;
  }

  /** Ids of all types (base included) with this name, in id order. */
  idsByName(name: string): number[] {
    const own = this.raw && name !== "" ? this.ownIdsByNameOff(name) : (this.ownNameIndex().get(name) ?? []);
    return this.base ? [...this.base.idsByName(name), ...own] : own;
  }

  /**
   * Parsed BTF: find the name's offsets by a byte search of the string table, then scan the
   * records' name words for them (a fraction of a millisecond on vmlinux), decoding no other name.
   */
  private ownIdsByNameOff(name: string): number[] {
    const { words, offsets } = this.raw as RawTypes;
    const offs = this.strings.offsetsOf(name);
    const ids: number[] = [];
    if (offs.length === 0) return ids;
    const first = offs[0];
    for (let i = 0; i < this.ownCount; i++) {
      const off = words[offsets[i]];
      if (off === first || (offs.length > 1 && offs.includes(off))) ids.push(this.firstId + i);
    }
    return ids;
  }

  /** The first type with this name and (optionally) kind, base first. */
  find<K extends BtfKind>(name: string, kind: K): BtfTypeOf<K> | undefined;
  find(name: string): BtfType | undefined;
  find(name: string, kind?: BtfKind): BtfType | undefined {
    for (const id of this.idsByName(name)) {
      if (kind === undefined || this.kindOf(id) === kind) return this.type(id);
    }
    return undefined;
  }

  /** Ids of all types (base included) of the given kind, in id order. */
  idsByKind(kind: BtfKind): number[] {
    const out = this.base ? this.base.idsByKind(kind) : [];
    for (let id = this.firstId; id < this.typeCount; id++) if (this.kindOf(id) === kind) out.push(id);
    return out;
  }

  /** This BTF's own types in id order (void and base excluded). */
  *types(): IterableIterator<BtfType> {
    for (let id = this.firstId; id < this.typeCount; id++) yield this.type(id);
  }

  /** Append a type; its id is set to the next free id, which is returned. */
  add(t: BtfType): number {
    if (t.kind === "void") throw new TsbpfError("BTF_BAD_TYPE", "void (id 0) cannot be added as a type");
    this.materialize();
    const id = this.typeCount;
    t.id = id;
    this.cache.push(t);
    this.ownCount++;
    if (this.nameIndex) {
      const l = this.nameIndex.get(t.name);
      if (l) l.push(id);
      else this.nameIndex.set(t.name, [id]);
    }
    return id;
  }

  /** Decode every record so the model objects become the source of truth (before mutation). */
  materialize(): void {
    if (!this.raw) return;
    for (let id = this.firstId; id < this.typeCount; id++) this.type(id);
    this.raw = undefined;
  }

  private ownNameIndex(): Map<string, number[]> {
    if (this.nameIndex) return this.nameIndex;
    const m = new Map<string, number[]>();
    for (let id = this.firstId; id < this.typeCount; id++) {
      const n = this.nameOf(id);
      const l = m.get(n);
      if (l) l.push(id);
      else m.set(n, [id]);
    }
    this.nameIndex = m;
    return m;
  }

  /**
   * The raw words behind this BTF's own types while no record has been replaced (parsed BTF that
   * was not materialized), for consumers that stream every record, like the raw dump.
   */
  rawTypes(): RawTypes | undefined {
    return this.raw;
  }

  /** File offset of a type's record (parsed BTF only), for error messages. */
  recordOffset(id: number): number | undefined {
    const raw = this.raw;
    if (!raw || id < this.firstId || id >= this.typeCount) return undefined;
    return raw.fileOffset + raw.offsets[id - this.firstId] * 4;
  }
}
