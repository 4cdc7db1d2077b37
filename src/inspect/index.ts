// Looking inside an object: the report `tsbpf inspect` prints.
export { inspectObject, type ObjectReport, type ProgramReport, type MapReport, type ExternReport, type InspectOptions } from "./report.ts";
export { printReport, reportJson } from "./print.ts";
export { cTypeName } from "./ctype.ts";
