/**
 * What keeps an ingesting process within its means: backpressure (ring nearly full → the sockets
 * pause until the consumer drained it, backpressure.ts) and the degradation manager (ring fill,
 * write lag, RSS and event-loop lag → a level; the subsystems act on it: quotes shed first, trades
 * never silently). Used by every role that ingests (all, recorder).
 */
import type { Config } from "../config/index.ts";
import type { Logger } from "../obs/logger.ts";
import type { LoopLagMonitor } from "../obs/loop-lag.ts";
import { DegradationManager, LEVEL_NAMES } from "../resilience/degradation.ts";
import type { Ring } from "../ring/ring.ts";
import { Backpressure } from "./backpressure.ts";
import type { Intake } from "./source.ts";
import { once, Timers } from "./subsystem.ts";

export interface GovernorDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly ring: Ring;
  readonly intake: Intake;
  readonly lag: LoopLagMonitor;
  /** Age of the oldest accepted row not yet written (ms). */
  readonly writeLagMs: () => number;
}

export function openGovernor(d: GovernorDeps) {
  const { log, ring, intake } = d;
  const backpressure = new Backpressure({
    pause: (fill) => {
      intake.source.pauseAll();
      log.warn({ fill }, "ring nearly full: pausing sockets");
    },
    resume: (fill) => {
      intake.source.resumeAll();
      log.info({ fill }, "ring drained: resuming sockets");
    },
  });
  const degradation = new DegradationManager({
    rssBudgetBytes: d.config.rssBudgetMb * 1024 * 1024,
    onChange: (c) =>
      log.warn({ from: LEVEL_NAMES[c.from], to: LEVEL_NAMES[c.to], reasons: c.reasons }, "degradation level"),
  });
  const timers = new Timers();
  return {
    name: "governor",
    backpressure,
    degradation,
    checks: {
      degradation: () =>
        degradation.level >= 4
          ? { ok: false, reason: `degradation ${degradation.levelName}` }
          : { ok: true, reason: degradation.levelName },
    },
    start() {
      timers.every(1000, () =>
        degradation.update(
          {
            ringFillRatio: ring.fillRatio(),
            sinkWriteLagMs: d.writeLagMs(),
            rssBytes: process.memoryUsage.rss(),
            eventLoopLagP99Ms: d.lag.measuredQuantile(0.99),
          },
          performance.now(),
        ),
      );
    },
    stop: once(async () => timers.clear()),
  };
}
