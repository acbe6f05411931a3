/**
 * OS facts both sink writers (WAL and Parquet) share: how an errno maps to a failure kind the
 * pipeline can act on, and how to make a rename durable (fsync of the folder).
 */
import * as nodeFs from "node:fs";
import { open } from "node:fs/promises";

export type ErrnoKind = "no_space" | "io" | "permission" | "missing";

/** ENOSPC means "free space and retry"; EACCES means "an operator must act"; and so on. */
export const KIND_BY_ERRNO: Readonly<Record<string, ErrnoKind>> = {
  ENOSPC: "no_space",
  EDQUOT: "no_space",
  EIO: "io",
  EAGAIN: "io",
  EINTR: "io",
  EBUSY: "io",
  EMFILE: "io",
  ENFILE: "io",
  EACCES: "permission",
  EPERM: "permission",
  EROFS: "permission",
  ENOENT: "missing",
};

/** fsync a folder so a rename or create inside it survives a crash. */
export function fsyncDirSync(dir: string): void {
  const fd = nodeFs.openSync(dir, "r");
  try {
    nodeFs.fsyncSync(fd);
  } finally {
    nodeFs.closeSync(fd);
  }
}

/**
 * fsyncDirSync on the thread pool, for a caller on the event loop that can wait for it (files
 * deleted; a query node's downloaded object renamed into place): a folder's fsync waits for the
 * file system's journal, and under the max-rate end-to-end run one held K2's event loop for
 * 789 ms (CPU profile, 2026-12-06).
 */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
