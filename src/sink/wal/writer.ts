/**
 * WalWriter.open: recover the folder, then log frames through one of two paths with the same
 * API, records and semantics:
 * - worker-writer.ts (default): append copies the frame's UTF-8 bytes and a fixed header into a
 *   SharedArrayBuffer; a Worker computes each CRC-32, pwrites, rotates and fsyncs. A profile of
 *   K2 at max rate had 22.7 % of the main thread in the inline WAL (issue 15).
 * - inline-writer.ts: everything on the calling thread; used when a test injects `fs` or
 *   `nowMs` (a Worker cannot call them) or with `inline: true`.
 */
import { InlineWalWriter } from "./inline-writer.ts";
import type { WalWriter as WalWriterApi, WalWriterOptions } from "./options.ts";
import { WorkerWalWriter } from "./worker-writer.ts";

export { WAL_DEFAULTS, type WalStatus, type WalWriterOptions } from "./options.ts";

export type WalWriter = WalWriterApi;

export const WalWriter = {
  /** Recover `dir` (repairing a torn tail) and continue after its last good record. */
  open(opts: WalWriterOptions): WalWriter {
    const inline = opts.inline === true || opts.fs !== undefined || opts.nowMs !== undefined;
    return inline ? InlineWalWriter.open(opts) : WorkerWalWriter.open(opts);
  },
} as const;
