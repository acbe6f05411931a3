/**
 * WalWriter.open: recover the folder, then log frames through one of two paths with the same
 * API, records and semantics:
 * - inline-writer.ts (default): everything on the calling thread.
 * - worker-writer.ts (`inline: false`, K2_WAL_WORKER=true): append copies the frame's UTF-8 bytes
 *   and a fixed header into a SharedArrayBuffer; a Worker computes each CRC-32, pwrites, rotates
 *   and fsyncs. It halves the main thread's WAL time at max rate (23.5 % → 11.4 %), but on this
 *   2-core machine, with the simulator on the other core, the end-to-end rate did not change
 *   beyond noise (native-bench/README.md), so it is opt-in. A test that injects `fs` or `nowMs`
 *   gets the inline path (a Worker cannot call them).
 */
import { InlineWalWriter } from "./inline-writer.ts";
import type { WalWriter as WalWriterApi, WalWriterOptions } from "./options.ts";
import { WorkerWalWriter } from "./worker-writer.ts";

export { WAL_DEFAULTS, type WalStatus, type WalWriterOptions } from "./options.ts";

export type WalWriter = WalWriterApi;

export const WalWriter = {
  /** Recover `dir` (repairing a torn tail) and continue after its last good record. */
  open(opts: WalWriterOptions): WalWriter {
    const inline = opts.inline !== false || opts.fs !== undefined || opts.nowMs !== undefined;
    return inline ? InlineWalWriter.open(opts) : WorkerWalWriter.open(opts);
  },
} as const;
