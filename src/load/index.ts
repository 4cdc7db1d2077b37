// The loader's public surface: kernel objects as disposable handles.
export { BpfMap, mapTypeNumber, type MapAttrs } from "./map.ts";
export { Program, attachedPrograms, progTypeNumber, attachTypeNumber, type ProgramAttrs, type RunOptions, type RunResult } from "./program.ts";
export { BtfHandle } from "./btf.ts";
export { RingBuffer } from "./ringbuf.ts";
export { PerfBuffer, type PerfSample } from "./perfbuf.ts";
export { Link, type ProgramLike } from "./link.ts";
export { FdOwner } from "./fd.ts";
export { OpenFile, ifIndex } from "./target.ts";
export { possibleCpus, numPossibleCpus, parseCpuList } from "./cpus.ts";
export { toBytes, readUint, type BytesLike } from "./bytes.ts";
export { VerifierError } from "../sys/progload.ts";
export { allIds, enableStats } from "../sys/bpf.ts";
export { SysError, errnoName } from "../sys/errno.ts";
export * from "../sys/constants.ts";
export { Collection, loadCollection, loadCollectionFile, sharedKernel, attachBtfId, type LoadCollectionOptions, type LoadedProgramSpec } from "./object.ts";
export { finalizeObjectBtf, sanitizeBtf, needsSanitizing, ALL_BTF_FEATURES, type BtfFeatures } from "./object-btf.ts";
export { mapCreateAttrs, effectiveMaxEntries, ringbufSize } from "./object-maps.ts";
