/**
 * sink/s3: the Parquet files mirrored to an S3-compatible store (K2_DATA_DIR=s3://bucket/prefix).
 * The local folder stays the working copy the catalog and DuckDB read; the store is where the
 * files are kept, and where a fresh machine gets them back from.
 */
export { ObjectStoreError, type ObjectStoreErrorKind, toObjectStoreError } from "./errors.ts";
export { type FileRef, listPrefix, localPath, objectKey, parseObjectKey } from "./keys.ts";
export {
  type Lane,
  type ListedObject,
  type MirrorOptions,
  ObjectMirror,
  type StoreTarget,
  UPLOAD_RETRY_BASE_MS,
  UPLOAD_RETRY_MAX_MS,
} from "./mirror.ts";
export {
  atStartup,
  type Owns,
  type PullOutcome,
  pullMissing,
  pushAll,
  type ReconcileOutcome,
  reconcile,
  STARTUP_TIMEOUT_MS,
  type VisibleFiles,
} from "./sync.ts";
