/**
 * From samples, probes, fault events and the completeness proof to the verdict, report.json and
 * report.html. Definitions (also printed in the report):
 * - uptime: share of 1 s probe intervals in which k2_shards_delivering equalled the shard count
 *   (every connection delivered within K2_DATA_TIMEOUT_MS), excluding intervals that start inside
 *   an outage window [fault start, fault end + data timeout + reconnect cap + 2 s] of a fault that
 *   by design interrupts delivery (drop, stall, lifetime cut). Rotation and id gaps are not excluded.
 * - memory slopes: least-squares slope of RSS / heap over samples after the warm-up
 *   (10 min for runs ≥ 1 h, else the first quarter; later if K2's bounded hot windows were not
 *   full yet, at most half the run: see warmupMs), in MB per hour.
 * - lag p99: the 99th percentile, over samples after the warm-up, of K2's own windowed p99
 *   (K2_LAG_WINDOW_MS); lag max likewise. Note: under Bun 1.4.5 process_heap_used_bytes (K2's
 *   process.memoryUsage().heapUsed) reads larger than RSS, so the heap figure is a trend only.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FaultEvent } from "./faults.ts";
import type { Finish } from "./finish.ts";
import { htmlReport } from "./html.ts";
import type { Probe, Sample } from "./sampler.ts";
import { max, percentile, round, slope } from "./stats.ts";

export interface VerdictInput {
  args: Record<string, unknown>;
  durationMs: number;
  samples: Sample[];
  probes: Probe[];
  faults: FaultEvent[];
  uptime: { percent: number; observedMs: number; downMs: number; excludedMs: number };
  finish: Finish | undefined;
  crashed: string | null;
  simStats: unknown;
}

/**
 * Where steady state begins: after the fixed warm-up (10 min for runs of an hour or more, else a
 * quarter of the run) and, if later, once the bounded hot windows are full (≥ 99 %) — until then
 * RSS grows by design, up to K2_QUERY_HOT_ROWS per table and symbol. Never later than half the
 * run, so a window that never fills cannot hide the whole run from the memory gate.
 */
export function warmupMs(durationMs: number, samples: readonly Sample[]): number {
  const fixed = durationMs >= 3_600_000 ? 600_000 : durationMs / 4;
  const full = samples.find((s) => s.hotFill >= 0.99)?.tMs ?? Number.POSITIVE_INFINITY;
  return Math.min(Math.max(fixed, full), durationMs / 2);
}

const MEM_PARTS = [
  "rssAnon",
  "rssFile",
  "jsObjects",
  "duckdb",
  "parquetWorkerHeap",
  "hotWindows",
  "anonNotHot",
  "rssAfterGc",
] as const;

export function buildVerdict(v: VerdictInput) {
  const long = v.durationMs >= 3_600_000;
  const warmMs = warmupMs(v.durationMs, v.samples);
  const warm = v.samples.filter((s) => s.tMs >= warmMs);
  const hours = (s: Sample) => s.tMs / 3_600_000;
  const rssSlope = slope(
    warm.map(hours),
    warm.map((s) => s.rssMB),
  );
  const heapSlope = slope(
    warm.map(hours),
    warm.map((s) => s.heapMB),
  );
  // The same slope per component, so a failed gate says where memory grows (NaN: not reported;
  // RSS after a full collection is NaN until K2's first one, so each part fits its own samples).
  const memSlopes = Object.fromEntries(
    MEM_PARTS.map((k) => {
      const has = warm.filter((s) => Number.isFinite(s.mem[k]));
      return [
        k,
        round(
          slope(
            has.map(hours),
            has.map((s) => s.mem[k]),
          ),
          2,
        ),
      ];
    }),
  ) as Record<keyof Sample["mem"], number>;
  // Start-up (DuckDB open, WAL replay) is not steady state: lag is judged after the warm-up too.
  const lagP99 = percentile(
    warm.map((s) => s.lagP99Ms),
    0.99,
  );
  const lagMax = max(warm.map((s) => s.lagMaxMs));
  const c = v.finish?.completeness;
  const f = v.finish?.final;
  const checks = {
    noCrash: v.crashed === null,
    cleanExit: v.finish?.exitCode === 0,
    noLoss: !!c && c.lost === 0 && c.unexpected === 0,
    noDuplicates: !!c && c.duplicated === 0,
    missingLedgered: !!c && c.missingNotLedgered === 0,
    uptime: v.uptime.percent >= 99.99,
    rssSlope: rssSlope < 5,
    lagP99: lagP99 < 20,
  };
  // The smoke gates only on what 2 minutes can prove; the long runs gate on everything.
  const gated: (keyof typeof checks)[] = long
    ? (Object.keys(checks) as (keyof typeof checks)[])
    : ["noCrash", "cleanExit", "noLoss", "noDuplicates", "missingLedgered"];
  const pass = gated.every((k) => checks[k]);
  return {
    pass,
    gated,
    checks,
    durationMs: v.durationMs,
    args: v.args,
    crashed: v.crashed,
    uptimePercent: round(v.uptime.percent, 4),
    uptime: v.uptime,
    k2UptimeRatioIncludingOutages: f ? round(f.uptimeRatio, 6) : null,
    trades: c
      ? {
          expected: c.expected,
          stored: c.stored,
          duplicated: c.duplicated,
          lost: c.lost,
          unexpected: c.unexpected,
          missingAtSource: c.missingAtSource,
          missingNotLedgered: c.missingNotLedgered,
        }
      : null,
    rssSlopeMBPerHour: round(rssSlope, 2),
    heapSlopeMBPerHour: round(heapSlope, 2),
    memorySlopesMBPerHour: memSlopes,
    warmupMs: warmMs,
    lagP99Ms: round(lagP99, 2),
    lagMaxMs: round(lagMax, 2),
    maxRssMB: round(max(v.samples.map((s) => s.rssMB)), 1),
    reconnects: f?.reconnects ?? null,
    rotations: f?.rotations ?? null,
    gapsDetected: f?.gapsDetected ?? null,
    gapIdsRepaired: f?.gapIdsRepaired ?? null,
    gapIdsMissingAtSource: f?.gapIdsMissingAtSource ?? null,
    deadLetters: f?.deadLetters ?? null,
    queryP99Ms: {
      trades: round(
        percentile(
          v.samples.map((s) => s.tradesQueryMs),
          0.99,
        ),
        1,
      ),
      ohlcv1m: round(
        percentile(
          v.samples.map((s) => s.ohlcvQueryMs),
          0.99,
        ),
        1,
      ),
    },
    queryNon200: v.samples.filter((s) => s.tradesQueryStatus !== 200 || s.ohlcvQueryStatus !== 200).length,
    settleMs: v.finish?.settleMs ?? null,
    faults: v.faults,
    lostSample: c?.symbols.filter((s) => s.lost > 0).map((s) => ({ symbol: s.symbol, ranges: s.lostSample })),
    simStats: v.simStats,
  };
}

export type Verdict = ReturnType<typeof buildVerdict>;

function memSlopeText(r: Verdict): string {
  return Object.entries(r.memorySlopesMBPerHour)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}

export function printVerdict(r: Verdict): void {
  const t = r.trades;
  const mark = (k: keyof Verdict["checks"]) =>
    r.checks[k] ? "ok" : r.gated.includes(k) ? "FAIL" : "miss (not gated)";
  const lines = [
    `uptime outside injected outages: ${r.uptimePercent}% (${(r.uptime.downMs / 1000).toFixed(1)} s down of ${(r.uptime.observedMs / 1000).toFixed(0)} s observed; ${(r.uptime.excludedMs / 1000).toFixed(0)} s excluded) [${mark("uptime")}]`,
    `trades: expected ${t?.expected} stored ${t?.stored} duplicated ${t?.duplicated} lost ${t?.lost} unexpected ${t?.unexpected} [${mark("noLoss")}/${mark("noDuplicates")}]`,
    `missing at source: ${t?.missingAtSource} ids, not in gap ledger: ${t?.missingNotLedgered} [${mark("missingLedgered")}]`,
    `RSS slope ${r.rssSlopeMBPerHour} MB/h [${mark("rssSlope")}], heap slope ${r.heapSlopeMBPerHour} MB/h, max RSS ${r.maxRssMB} MB`,
    `memory slopes by part, MB/h: ${memSlopeText(r)}`,
    `event-loop lag p99 ${r.lagP99Ms} ms [${mark("lagP99")}], max ${r.lagMaxMs} ms`,
    `reconnects ${r.reconnects}, rotations ${r.rotations}, gaps detected ${r.gapsDetected}, ids repaired ${r.gapIdsRepaired}, ids missing at source ${r.gapIdsMissingAtSource}`,
    `query p99: trades ${r.queryP99Ms.trades} ms, ohlcv 1m ${r.queryP99Ms.ohlcv1m} ms; non-200 samples ${r.queryNon200}`,
    `faults injected: ${r.faults.length}; crash: ${r.crashed ?? "none"}; K2 exit ${r.checks.cleanExit ? "0" : "not 0"}`,
    `VERDICT: ${r.pass ? "PASS" : "FAIL"} (gated on ${r.gated.join(", ")})`,
  ];
  for (const l of lines) console.log(l);
}

export function writeReports(dir: string, r: Verdict, samples: Sample[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), `${JSON.stringify({ ...r, samples }, null, 1)}\n`);
  const min = (s: Sample) => s.tMs / 60_000;
  const bands = r.faults.map((f): [number, number] => [f.startMs / 60_000, (f.endMs + 1000) / 60_000]);
  const series = (title: string, unit: string, pick: (s: Sample) => number) => ({
    title,
    unit,
    bands,
    points: samples.map((s): [number, number] => [min(s), pick(s)]),
  });
  const t = r.trades;
  const row = (k: string, v: unknown, ok: boolean | null = null): [string, string, boolean | null] => [
    k,
    String(v),
    ok,
  ];
  const html = htmlReport(
    `K2 soak: ${r.pass ? "PASS" : "FAIL"}`,
    [
      row("duration", `${(r.durationMs / 60_000).toFixed(1)} min`),
      row("args", JSON.stringify(r.args)),
      row("uptime outside injected outages", `${r.uptimePercent} %`, r.checks.uptime),
      row("trades expected / stored", `${t?.expected} / ${t?.stored}`),
      row(
        "duplicated / lost / unexpected",
        `${t?.duplicated} / ${t?.lost} / ${t?.unexpected}`,
        r.checks.noLoss && r.checks.noDuplicates,
      ),
      row(
        "missing at source (not ledgered)",
        `${t?.missingAtSource} (${t?.missingNotLedgered})`,
        r.checks.missingLedgered,
      ),
      row("RSS / heap slope", `${r.rssSlopeMBPerHour} / ${r.heapSlopeMBPerHour} MB/h`, r.checks.rssSlope),
      row("memory slopes by part", `${memSlopeText(r)} MB/h`),
      row("event-loop lag p99 / max", `${r.lagP99Ms} / ${r.lagMaxMs} ms`, r.checks.lagP99),
      row("reconnects / rotations", `${r.reconnects} / ${r.rotations}`),
      row("gap ids repaired / missing at source", `${r.gapIdsRepaired} / ${r.gapIdsMissingAtSource}`),
      row("faults injected", r.faults.length),
      row("crash", r.crashed ?? "none", r.checks.noCrash),
    ],
    [
      series("RSS", "MB", (s) => s.rssMB),
      series("JS heap used", "MB", (s) => s.heapMB),
      series("RSS anonymous", "MB", (s) => s.mem.rssAnon),
      series("Hot windows filled", "MB", (s) => s.mem.hotWindows),
      series("RSS anonymous without the hot windows", "MB", (s) => s.mem.anonNotHot),
      series("RSS right after K2's last full collection", "MB", (s) => s.mem.rssAfterGc),
      series("DuckDB (its own accounting)", "MB", (s) => s.mem.duckdb),
      series("JS objects (main thread)", "MB", (s) => s.mem.jsObjects),
      series("Parquet worker JS heap", "MB", (s) => s.mem.parquetWorkerHeap),
      series("Event-loop lag p99", "ms", (s) => s.lagP99Ms),
      series("Frames decoded", "frames/s", (s) => s.framesPerSec),
      series("Trades accepted", "trades/s", (s) => s.tradesPerSec),
      series("GET /v1/trades limit=100", "ms", (s) => s.tradesQueryMs),
    ],
    [
      "Uptime excludes [fault start, fault end + data timeout + reconnect cap + 2 s] of drop, stall and lifetime-cut faults only.",
      `Slopes are least-squares fits after a ${(r.warmupMs / 60_000).toFixed(1)} min warm-up (the fixed warm-up, or until the bounded hot windows were full if that came later).`,
    ],
  );
  writeFileSync(join(dir, "report.html"), html);
}
