/** sink/parquet: batches → atomic Parquet files (in a worker), and reading them back. */
export * from "./batch.ts";
export { BatchPool } from "./batch-pool.ts";
export * from "./batch-window.ts";
export { commitFile } from "./commit.ts";
export { type EncodeInput, type EncodeOptions, encodeParquet, type FileStats } from "./encode.ts";
export * from "./errors.ts";
export * from "./fs.ts";
export { type CompactJob, type CompactResult, compactJob, type WriteJob, writeJob } from "./job.ts";
export * from "./layout.ts";
export { type FileInfo, fileInfoFromKv } from "./meta.ts";
export { type CompactRequest, ParquetWriterPool, type PoolOptions } from "./pool.ts";
export * from "./read.ts";
export {
  META,
  READABLE_SCHEMA_VERSIONS,
  ROW_GROUP_ROWS,
  SCHEMA_VERSION,
  TABLE_SCHEMAS,
  TABLE_SLOTS,
  WRITER_INFO,
} from "./schema.ts";
