/**
 * Metrics increment cost: K2's registry (src/obs/metrics.ts) against prom-client, in the same run.
 * Decides issue 2's question "our registry or prom-client?" by the hot-path cost of inc().
 */
import * as prom from "prom-client";
import { Registry } from "../src/obs/metrics.ts";
import type { BenchSuite } from "./harness.ts";

const OPS = 2_000_000;

export const suite: BenchSuite = {
  title: "metrics",
  cases: [
    {
      name: "k2 counter.inc()",
      ops: OPS,
      setup: () => {
        const c = new Registry().counter("bench_k2_total", "x");
        return () => c.inc();
      },
    },
    {
      name: "k2 labelled child.inc()",
      ops: OPS,
      setup: () => {
        const c = new Registry().counter("bench_k2_lbl_total", "x").with({ reason: "truncated" });
        return () => c.inc();
      },
    },
    {
      name: "prom-client counter.inc()",
      ops: OPS,
      setup: () => {
        const c = new prom.Counter({ name: "bench_prom_total", help: "x", registers: [] });
        return () => c.inc();
      },
    },
    {
      name: "prom-client labels().inc()",
      ops: OPS,
      setup: () => {
        const c = new prom.Counter({
          name: "bench_prom_lbl_total",
          help: "x",
          labelNames: ["reason"],
          registers: [],
        });
        const child = c.labels("truncated");
        return () => child.inc();
      },
    },
  ],
  ratios: [
    { subject: "k2 counter.inc()", baseline: "prom-client counter.inc()" },
    { subject: "k2 labelled child.inc()", baseline: "prom-client labels().inc()" },
  ],
};
