/** catalog/: which files hold what; rebuildable from disk; compaction and retention. */
export * from "./adopt.ts";
export * from "./catalog.ts";
export * from "./compact.ts";
export * from "./retention.ts";
export * from "./scan.ts";
