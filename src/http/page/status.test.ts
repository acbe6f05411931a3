import { describe, expect, test } from "bun:test";
import { Registry } from "../../obs/metrics.ts";
import type { QueryEngine } from "../../query/engine.ts";
import { Readiness } from "../../resilience/readiness.ts";
import { StatusProbe, sumSamples } from "./status.ts";

describe("sumSamples", () => {
  test("adds every labelled sample of a metric and skips comments", () => {
    const text = [
      "# HELP k2_rows_accepted_total rows",
      "# TYPE k2_rows_accepted_total gauge",
      'k2_rows_accepted_total{table="trades"} 10',
      'k2_rows_accepted_total{table="quotes",note="a b"} 5',
      "k2_degradation_level 2",
      "",
    ].join("\n");
    const m = sumSamples(text);
    expect(m.get("k2_rows_accepted_total")).toBe(15);
    expect(m.get("k2_degradation_level")).toBe(2);
    expect(m.size).toBe(2);
  });
});

describe("StatusProbe", () => {
  test("ingest rate over at least a second, readiness reasons, gaps and freshness", () => {
    const registry = new Registry();
    const accepted = registry.gauge("k2_rows_accepted_total", "rows");
    registry.gauge("k2_shards_delivering", "shards", () => 3);
    const readiness = new Readiness();
    readiness.register("source", () => ({ ok: false, reason: "0 of 3 shards delivering" }));
    readiness.register("sink", () => ({ ok: true }));
    // Only the field the probe reads; the ledger's entry type lives with the ledger.
    const gaps = [{ updated_at_us: 7 }, { updated_at_us: 9 }] as unknown as ReturnType<QueryEngine["gaps"]>;
    let nowMs = 0;
    const probe = new StatusProbe({
      registry,
      readiness,
      engine: { gaps: () => gaps, freshnessMs: (s) => (s === "BTCUSDT" ? 42 : null) },
      nowMs: () => nowMs,
    });
    accepted.setWith({ table: "trades" }, 100);
    expect(probe.sample("BTCUSDT").ingest_rows_per_s).toBeNull();
    nowMs = 500; // too soon: no rate from half a second
    accepted.setWith({ table: "trades" }, 400);
    expect(probe.sample("BTCUSDT").ingest_rows_per_s).toBeNull();
    nowMs = 2_000;
    accepted.setWith({ table: "quotes" }, 100); // all tables count: 400 + 100 − 100 over 2 s
    const s = probe.sample("BTCUSDT");
    expect(s.ingest_rows_per_s).toBe(200);
    expect(s.ready).toBe(false);
    expect(s.not_ready).toEqual({ source: "0 of 3 shards delivering" });
    expect(s.source_connections_delivering).toBe(3);
    expect(s.source_reconnects).toBeNull();
    expect(s.freshness_ms).toBe(42);
    expect(s.gaps).toEqual({ count: 2, updated_at_us: 9 });
    expect(s.degradation).toBeNull();
  });
});
