/**
 * The live page's status record: what an operator glances at (ingest rate, freshness, degradation
 * level, source connections, readiness, the gap ledger's size). Read from the same registry that
 * /metrics renders and the same readiness /health/ready reports, so the page never disagrees
 * with them; nothing here is counted twice.
 */
import type { Registry } from "../../obs/metrics.ts";
import type { QueryEngine } from "../../query/engine.ts";
import type { Readiness } from "../../resilience/readiness.ts";
import type { LoadView } from "../routes/v1/shed.ts";

export interface PageStatus {
  readonly ready: boolean;
  /** Readiness checks that fail, with their reasons (empty when ready). */
  readonly not_ready: Record<string, string>;
  /** Rows accepted per second over the last second or more, all tables; null before two samples. */
  readonly ingest_rows_per_s: number | null;
  /** Age of the newest stored row of the symbol (ms); null when nothing is stored. */
  readonly freshness_ms: number | null;
  readonly degradation: string | null;
  readonly source_connections_delivering: number | null;
  readonly source_reconnects: number | null;
  readonly page_streams: number;
  /** Entries in the symbol's gap ledger and when one last changed (µs), so the page refetches /v1/gaps. */
  readonly gaps: { readonly count: number; readonly updated_at_us: number };
}

/** Sum of every sample of each metric in Prometheus text (labels ignored). */
export function sumSamples(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    const brace = line.indexOf("{");
    const name = line.slice(0, brace >= 0 && brace < space ? brace : space);
    const v = Number(line.slice(space + 1));
    if (Number.isFinite(v)) sums.set(name, (sums.get(name) ?? 0) + v);
  }
  return sums;
}

/** Rate over at least this long, so a burst between two quick samples does not read as a spike. */
const RATE_WINDOW_MS = 1_000;

export class StatusProbe {
  #last: { ms: number; rows: number } | undefined;
  #rate: number | null = null;
  streams = 0;

  constructor(
    readonly deps: {
      readonly registry: Registry;
      readonly readiness: Readiness;
      readonly engine: Pick<QueryEngine, "gaps" | "freshnessMs">;
      readonly load?: LoadView;
      readonly nowMs?: () => number;
    },
  ) {}

  sample(symbol: string): PageStatus {
    const { registry, readiness, engine, load } = this.deps;
    const m = sumSamples(registry.render());
    const rows = m.get("k2_rows_accepted_total");
    const ms = this.deps.nowMs?.() ?? performance.now();
    if (rows !== undefined) {
      if (!this.#last) this.#last = { ms, rows };
      else if (ms - this.#last.ms >= RATE_WINDOW_MS) {
        this.#rate = Math.round(((rows - this.#last.rows) * 1000) / (ms - this.#last.ms));
        this.#last = { ms, rows };
      }
    }
    const r = readiness.report();
    const not_ready: Record<string, string> = {};
    for (const [name, c] of Object.entries(r.checks)) if (!c.ok) not_ready[name] = c.reason ?? "failing";
    const gaps = engine.gaps(symbol);
    let updated = 0;
    for (const g of gaps) updated = Math.max(updated, g.updated_at_us);
    return {
      ready: r.ready,
      not_ready,
      ingest_rows_per_s: this.#rate,
      freshness_ms: engine.freshnessMs(symbol),
      degradation: load?.levelName ?? null,
      source_connections_delivering: m.get("k2_shards_delivering") ?? null,
      source_reconnects: m.get("k2_reconnects_total") ?? null,
      page_streams: this.streams,
      gaps: { count: gaps.length, updated_at_us: updated },
    };
  }
}
