// CO-RE relocation: compute fix-ups against a target BTF (libbpf's relo_core semantics), then apply.
export * from "./types.ts";
export { computeCoreFixups, type CoreFunction, type RelocateOptions } from "./relocate.ts";
export { applyCoreFixups, checkFixups, type Patched } from "./apply.ts";
export { objectCoreFixups, applyObjectCore, objectExt } from "./object.ts";
export { parseLocalSpec, matchSpec, formatSpec } from "./spec.ts";
export { fieldsAreCompat, typesAreCompat, typesMatch } from "./compat.ts";
export { findCandidates } from "./candidates.ts";
export { essentialName, resolveSize } from "./walk.ts";
export { formatFixup, describeOutcome, summarize, fixupJson, type FixupSummary } from "./format.ts";
