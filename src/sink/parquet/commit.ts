/**
 * Atomic visible-file commit: write `.tmp-<name>.partial` in the partition folder, fsync, rename to
 * `<name>`, fsync the folder. A reader sees the complete file or nothing. On any failure the
 * temp file is removed and, if the rename had already happened, so is the visible file, so a
 * caller that retries never leaves a duplicate behind.
 */
import { join } from "node:path";
import { toParquetError } from "./errors.ts";
import { fsyncCreatedDirs, type ParquetFs } from "./fs.ts";
import { tempNameOf } from "./layout.ts";

export function commitFile(fs: ParquetFs, dir: string, name: string, bytes: Uint8Array): string {
  const finalPath = join(dir, name);
  const tmpPath = join(dir, tempNameOf(name));
  let step = "mkdir";
  let fd: number | undefined;
  let renamed = false;
  try {
    const created = fs.mkdirp(dir);
    step = "fsync_dir";
    fsyncCreatedDirs(fs, created, dir);
    step = "open";
    fd = fs.createExclusive(tmpPath);
    step = "write";
    let off = 0;
    // Bounded: every pass writes ≥ 1 byte or throws; a zero-byte write is an error.
    while (off < bytes.length) {
      const n = fs.write(fd, bytes, off, bytes.length - off);
      if (n <= 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" });
      off += n;
    }
    step = "fsync";
    fs.fsync(fd);
    step = "close";
    const f = fd;
    fd = undefined;
    fs.close(f);
    step = "rename";
    fs.rename(tmpPath, finalPath);
    renamed = true;
    step = "fsync_dir";
    fs.fsyncDir(dir);
    return finalPath;
  } catch (err) {
    const typed = toParquetError(step, step === "rename" || step === "fsync_dir" ? finalPath : tmpPath, err);
    if (fd !== undefined) ignore(() => fs.close(fd!));
    ignore(() => fs.unlink(renamed ? finalPath : tmpPath));
    if (renamed) ignore(() => fs.fsyncDir(dir));
    throw typed;
  }
}

function ignore(fn: () => void): void {
  try {
    fn();
  } catch {
    // Cleanup is best effort: the original error is the one the caller needs.
  }
}
