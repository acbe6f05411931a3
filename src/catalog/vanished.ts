/**
 * A reader that lists a partition's files and then reads them can find one gone: a compaction
 * commits its merged file and then deletes the sources. The merged file holds the same rows, so
 * listing again and reading again gives the same answer. One rule for every such reader (the
 * query engine over a folder it does not pin, the backfill's stored-id read beside a running K2).
 */

/** Listings (and reads) tried at most: each retry follows a compaction that finished meanwhile. */
export const VANISHED_FILE_TRIES = 3;

/**
 * `read` (which lists its files itself), again after `relist` while it fails with an error
 * `vanished` recognises, up to VANISHED_FILE_TRIES times in all; any other error is thrown at once.
 */
export async function readWhileFilesVanish<T>(
  read: () => Promise<T>,
  vanished: (e: unknown) => boolean,
  relist?: () => Promise<void>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      if (attempt >= VANISHED_FILE_TRIES || !vanished(e)) throw e;
      await relist?.();
    }
  }
}
