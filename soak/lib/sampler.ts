/**
 * The soak's two observation loops: a 1 s readiness probe (uptime needs fine grain) and a slower
 * sampler (memory, lag, rates, query latency). Both are bounded by a deadline and stop at once if
 * K2 exits (a crash ends the run).
 */
import { type MemorySplit, snapshot } from "./metrics.ts";
import type { Stack } from "./stack.ts";

export interface Sample {
  tMs: number;
  rssMB: number;
  heapMB: number;
  lagP99Ms: number;
  lagMaxMs: number;
  openFds: number;
  ringFill: number;
  degradation: number;
  framesPerSec: number;
  tradesPerSec: number;
  rowsWritten: number;
  reconnects: number;
  rotations: number;
  tradesQueryMs: number;
  tradesQueryStatus: number;
  ohlcvQueryMs: number;
  ohlcvQueryStatus: number;
  /** Hot-window fill 0..1: memory reaches steady state when the bounded windows are full. */
  hotFill: number;
  /**
   * RSS split by component, MB (see MemorySplit), plus anonymous memory other than the hot
   * windows' (rssAnon - hotWindows): the part that must stay flat once the run is warm.
   */
  mem: Record<keyof MemorySplit | "anonNotHot", number>;
}

const MB = 2 ** 20;

export interface Probe {
  tMs: number;
  up: boolean;
}

export interface LoopControl {
  /** performance.now() at the start of the run. */
  t0: number;
  deadline: number;
  stopped: () => boolean;
}

export async function probeLoop(stack: Stack, c: LoopControl, shards: number, everyMs: number, out: Probe[]) {
  const maxIter = Math.ceil((c.deadline - c.t0) / everyMs) + 10;
  for (let i = 0; i < maxIter && performance.now() < c.deadline && !c.stopped(); i++) {
    const next = performance.now() + everyMs;
    const m = await stack.metrics().catch(() => undefined);
    out.push({ tMs: performance.now() - c.t0, up: !!m && m.get("k2_shards_delivering") >= shards });
    await Bun.sleep(Math.max(0, next - performance.now()));
  }
}

/** How far back each sample's OHLCV probe starts (soak/run.ts --ohlcv-window; an hour by default). */
export const OHLCV_WINDOW_MS = 3_600_000;

export async function sampleLoop(
  stack: Stack,
  c: LoopControl,
  everyMs: number,
  out: Sample[],
  ohlcvWindowMs = OHLCV_WINDOW_MS,
) {
  const maxIter = Math.ceil((c.deadline - c.t0) / everyMs) + 10;
  let prev: { t: number; frames: number; trades: number } | undefined;
  for (let i = 0; i < maxIter && performance.now() < c.deadline && !c.stopped(); i++) {
    const next = performance.now() + everyMs;
    const m = await stack.metrics().catch(() => undefined);
    const now = performance.now();
    if (m) {
      const s = snapshot(m);
      const sym = stack.symbols[i % stack.symbols.length]!;
      const tq = await stack.get(`/v1/trades?symbol=${sym}&limit=100`);
      const from = Date.now() - ohlcvWindowMs;
      const oq = await stack.get(`/v1/ohlcv?symbol=${sym}&interval=1m&start=${from}`);
      const dt = prev ? (now - prev.t) / 1000 : Number.NaN;
      out.push({
        tMs: now - c.t0,
        rssMB: s.rssBytes / MB,
        heapMB: s.heapUsedBytes / MB,
        lagP99Ms: s.lagP99Ms,
        lagMaxMs: s.lagMaxMs,
        openFds: s.openFds,
        ringFill: s.ringFill,
        degradation: s.degradation,
        framesPerSec: prev ? (s.framesTotal - prev.frames) / dt : Number.NaN,
        tradesPerSec: prev ? (s.tradesAccepted - prev.trades) / dt : Number.NaN,
        rowsWritten: s.rowsWritten,
        reconnects: s.reconnects,
        rotations: s.rotations,
        tradesQueryMs: tq.ms,
        tradesQueryStatus: tq.status,
        ohlcvQueryMs: oq.ms,
        ohlcvQueryStatus: oq.status,
        hotFill: s.hotFill,
        mem: {
          rssAnon: s.memory.rssAnon / MB,
          rssFile: s.memory.rssFile / MB,
          jsObjects: s.memory.jsObjects / MB,
          duckdb: s.memory.duckdb / MB,
          parquetWorkerHeap: s.memory.parquetWorkerHeap / MB,
          hotWindows: s.memory.hotWindows / MB,
          rssAfterGc: s.memory.rssAfterGc / MB,
          anonNotHot: (s.memory.rssAnon - s.memory.hotWindows) / MB,
        },
      });
      prev = { t: now, frames: s.framesTotal, trades: s.tradesAccepted };
    }
    await Bun.sleep(Math.max(0, next - performance.now()));
  }
}
