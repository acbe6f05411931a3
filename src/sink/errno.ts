/**
 * OS facts both sink writers (WAL and Parquet) share: how an errno maps to a failure kind the
 * pipeline can act on, and how to make a rename durable (fsync of the folder).
 */
import * as nodeFs from "node:fs";

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
