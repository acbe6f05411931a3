/**
 * Query flood with autocannon (run under Bun, loopback, bounded duration) on one API key while K2
 * ingests: the API sheds the excess with 429, the harness's own key is still served, and ingest
 * loses nothing.
 */
import { join } from "node:path";
import { FLOOD_KEY } from "../soak/lib/stack.ts";
import { ROOT } from "../test/support/k2-process.ts";
import { type Checker, type Scenario, snap, withStack } from "./lib/scenario.ts";

interface Autocannon {
  requests: { total: number; average: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number }>;
}

export const scenario: Scenario = {
  name: "query-flood",
  summary: "autocannon 32 connections on /v1/trades during ingest: 429s shed the excess, no ingest loss",
  smoke: true,
  async run(o, chk: Checker) {
    await withStack(chk, {}, async (stack) => {
      const before = await snap(stack);
      const seconds = o.short ? 6 : 20;
      const bin = join(ROOT, "node_modules", "autocannon", "autocannon.js");
      const url = `${stack.k2.url}/v1/trades?symbol=BTCUSDT&limit=100`;
      const ac = Bun.spawn(
        [process.execPath, bin, "-c", "32", "-d", String(seconds), "-j", "-H", `X-API-Key=${FLOOD_KEY}`, url],
        { stdout: "pipe", stderr: "pipe" },
      );
      // The harness key has its own token bucket: it must still get answers during the flood.
      const own: number[] = [];
      for (let i = 0; i < seconds * 2; i++) {
        own.push((await stack.get("/v1/trades?symbol=ETHUSDT&limit=10")).status);
        await Bun.sleep(500);
      }
      const killer = setTimeout(() => ac.kill("SIGKILL"), (seconds + 20) * 1000);
      const out = await new Response(ac.stdout).text();
      await ac.exited;
      clearTimeout(killer);
      const after = await snap(stack);
      let r: Autocannon | undefined;
      try {
        r = JSON.parse(out) as Autocannon;
      } catch {
        chk.check(
          false,
          `autocannon printed no JSON: ${out.slice(0, 200)} ${await new Response(ac.stderr).text()}`,
        );
      }
      const shed = (after?.rateLimited ?? 0) - (before?.rateLimited ?? 0);
      chk.set("flood_requests", r?.requests.total);
      chk.set("flood_req_per_s", r?.requests.average);
      chk.set("flood_p99_ms", r?.latency.p99);
      chk.set(
        "flood_status",
        r?.statusCodeStats
          ? Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count]))
          : null,
      );
      chk.set("k2_rate_limited", shed);
      chk.set(
        "harness_key_statuses",
        own.reduce<Record<number, number>>((m, s) => {
          m[s] = (m[s] ?? 0) + 1;
          return m;
        }, {}),
      );
      chk.set("lag_p99_ms_after", after?.lagP99Ms);
      chk.check(shed > 0, "no request was shed with 429 although the flood exceeded the rate limit");
      chk.check((r?.statusCodeStats?.["429"]?.count ?? 0) > 0, "autocannon saw no 429");
      chk.check((r?.statusCodeStats?.["500"]?.count ?? 0) === 0, "the flood produced 500s");
      chk.check(
        own.every((s) => s === 200),
        "the harness's own key was refused during the flood",
      );
    });
  },
};
