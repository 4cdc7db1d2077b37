// Decoding of one raw type record (host-order 32-bit words, already validated by btf/parse.ts)
// into its model object, and the record-size rule both directions share.

import type { StringTable } from "./strings.ts";
import { KIND_NAMES, LINKAGES, type BtfType } from "./types.ts";

/** Words that follow the 3-word btf_type header for a kind number and vlen (-1: unknown kind). */
export function extraWords(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // int
    case 14: // var
    case 17: // decl_tag
      return 1;
    case 3: // array
      return 3;
    case 4: // struct
    case 5: // union
    case 15: // datasec
    case 19: // enum64
      return vlen * 3;
    case 6: // enum
    case 13: // func_proto
      return vlen * 2;
    case 2:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 16:
    case 18:
      return 0;
    default:
      return -1;
  }
}

/** Decode the record at word index `at`. The caller guarantees it was validated. */
export function decodeRecord(w: Uint32Array, at: number, id: number, strings: StringTable): BtfType {
  const nameOff = w[at];
  const info = w[at + 1];
  const st = w[at + 2];
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const name = strings.get(nameOff);
  const x = at + 3;
  switch (KIND_NAMES[kind]) {
    case "int": {
      const v = w[x];
      return { kind: "int", id, name, nameOff, size: st, encoding: (v >>> 24) & 0x0f, bitOffset: (v >>> 16) & 0xff, bits: v & 0xff };
    }
    case "ptr":
      return { kind: "ptr", id, name, nameOff, type: st };
    case "typedef":
      return { kind: "typedef", id, name, nameOff, type: st };
    case "volatile":
      return { kind: "volatile", id, name, nameOff, type: st };
    case "const":
      return { kind: "const", id, name, nameOff, type: st };
    case "restrict":
      return { kind: "restrict", id, name, nameOff, type: st };
    case "type_tag":
      return { kind: "type_tag", id, name, nameOff, type: st, kindFlag: kflag };
    case "array":
      return { kind: "array", id, name, nameOff, type: w[x], indexType: w[x + 1], nelems: w[x + 2] };
    case "struct":
    case "union": {
      const members = new Array(vlen);
      for (let i = 0, p = x; i < vlen; i++, p += 3) {
        const off = w[p + 2];
        members[i] = {
          name: strings.get(w[p]),
          nameOff: w[p],
          type: w[p + 1],
          bitOffset: kflag ? off & 0xffffff : off,
          bitfieldSize: kflag ? off >>> 24 : 0,
        };
      }
      return { kind: kind === 4 ? "struct" : "union", id, name, nameOff, size: st, kindFlag: kflag, members };
    }
    case "enum": {
      const values = new Array(vlen);
      for (let i = 0, p = x; i < vlen; i++, p += 2) {
        values[i] = { name: strings.get(w[p]), nameOff: w[p], value: kflag ? w[p + 1] | 0 : w[p + 1] };
      }
      return { kind: "enum", id, name, nameOff, size: st, signed: kflag, values };
    }
    case "enum64": {
      const values = new Array(vlen);
      for (let i = 0, p = x; i < vlen; i++, p += 3) {
        const u = (BigInt(w[p + 2]) << 32n) | BigInt(w[p + 1]);
        values[i] = { name: strings.get(w[p]), nameOff: w[p], value: kflag ? BigInt.asIntN(64, u) : u };
      }
      return { kind: "enum64", id, name, nameOff, size: st, signed: kflag, values };
    }
    case "fwd":
      return { kind: "fwd", id, name, nameOff, fwdKind: kflag ? "union" : "struct" };
    case "func":
      return { kind: "func", id, name, nameOff, type: st, linkage: LINKAGES[vlen] };
    case "func_proto": {
      const params = new Array(vlen);
      for (let i = 0, p = x; i < vlen; i++, p += 2) params[i] = { name: strings.get(w[p]), nameOff: w[p], type: w[p + 1] };
      return { kind: "func_proto", id, name, nameOff, returnType: st, params };
    }
    case "var":
      return { kind: "var", id, name, nameOff, type: st, linkage: LINKAGES[w[x]] };
    case "datasec": {
      const vars = new Array(vlen);
      for (let i = 0, p = x; i < vlen; i++, p += 3) vars[i] = { type: w[p], offset: w[p + 1], size: w[p + 2] };
      return { kind: "datasec", id, name, nameOff, size: st, vars };
    }
    case "float":
      return { kind: "float", id, name, nameOff, size: st };
    case "decl_tag":
      return { kind: "decl_tag", id, name, nameOff, type: st, componentIdx: w[x] | 0, kindFlag: kflag };
    default:
      throw new Error(`decodeRecord: unvalidated kind ${kind} at word ${at}`);
  }
}
