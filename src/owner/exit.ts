/**
 * The one way a K2 process ends on SIGTERM/SIGINT (and after handing over): live page streams
 * end, the listener stops accepting while in-flight requests finish, the process's parts drain,
 * the claim on the data dir is released, exit 0 — or exit 1 once K2_SHUTDOWN_GRACE_MS is over.
 */
import { endLiveStreams } from "../http/index.ts";
import type { Logger } from "../obs/index.ts";

export interface Drain {
  readonly logger: Logger;
  readonly graceMs: number;
  /** The listener (stop(false): in-flight requests finish). */
  readonly server: () => { stop(closeActive?: boolean): Promise<void> | void };
  /** Drain what the process runs (pipeline or role). */
  readonly stop: () => Promise<void>;
  /** Give the data dir back (nothing to give for a query node). */
  readonly release: () => void;
}

/** A shutdown function that runs once, however many signals arrive. */
export function drainOnSignal(d: Drain): (signal: string) => Promise<void> {
  let stopping = false;
  return async (signal) => {
    if (stopping) return;
    stopping = true;
    d.logger.info({ signal, grace_ms: d.graceMs }, "k2 stopping");
    const force = setTimeout(() => {
      d.logger.error({ grace_ms: d.graceMs }, "grace period over; exiting without a full drain");
      process.exit(1);
    }, d.graceMs);
    // Live page streams end now (the page reconnects to whoever serves next): the listener's stop
    // below waits for open responses.
    endLiveStreams();
    await d.server().stop(false);
    await d.stop();
    clearTimeout(force);
    d.release();
    d.logger.info("k2 stopped");
    d.logger.flush?.();
    process.exit(0);
  };
}
