/**
 * Wires the stages in data order. Reading top to bottom shows the path:
 * source → decode → ring → sink (Parquet, WAL, DLQ) → catalog → query → http.
 * Stages appear here as their issues land; today: the data folder and the HTTP shell.
 */
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "./config/index.ts";
import { type Logger, Registry, registerProcessMetrics, stageLogger } from "./obs/index.ts";
import { Readiness } from "./resilience/index.ts";

export interface Pipeline {
  readonly registry: Registry;
  readonly readiness: Readiness;
  /** Stop ingesting, flush what was accepted, release resources. Idempotent. */
  stop(): Promise<void>;
}

/** Creates the data folder and proves it writable; throws with a clear message if not. */
export function prepareDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const probe = join(dir, `.k2-write-probe-${process.pid}`);
  writeFileSync(probe, "ok");
  rmSync(probe);
}

export function buildPipeline(config: Config, logger: Logger): Pipeline {
  const registry = new Registry();
  const readiness = new Readiness();
  const lag = registerProcessMetrics(registry, config.lagWindowMs);
  const log = stageLogger(logger, "pipeline");

  prepareDataDir(config.dataDir);
  readiness.register("config", () => ({ ok: true, reason: "loaded" }));
  readiness.register("data_dir", () => {
    try {
      accessSync(config.dataDir, constants.W_OK);
      return { ok: true, reason: config.dataDir };
    } catch (e) {
      return { ok: false, reason: `data dir ${config.dataDir} not writable: ${(e as Error).message}` };
    }
  });

  let stopped = false;
  return {
    registry,
    readiness,
    async stop() {
      if (stopped) return;
      stopped = true;
      lag.stop();
      log.info("pipeline stopped");
    },
  };
}
