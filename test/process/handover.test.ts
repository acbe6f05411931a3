/**
 * The one-command upgrade: K2 "blue" runs on data dir D and port P; K2 "green" is started the
 * ordinary way on D and P and takes over. One simulator runs as its own process (both K2 connect
 * to it) and keeps every bookTicker update id it sent, so quotes — which no REST call can bring
 * back — prove the two processes overlapped. A client on fresh connections asks every 25 ms
 * throughout and must never be refused or see a 5xx or a not-ready.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectStored, simEnv, truthOf, waitUntil } from "../support/bounded-run.ts";
import { startK2 } from "../support/k2-process.ts";
import { type SimProcess, startSimProcess } from "../support/sim-process.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

async function sim(): Promise<SimProcess> {
  const s = await startSimProcess([
    "--symbols",
    SYMBOLS.join(","),
    "--rate",
    "200",
    "--record-quote-ids",
    "--faults",
    '{"paused":true}',
  ]);
  cleanups.push(() => s.stop());
  return s;
}

async function k2(s: SimProcess, dataDir: string, port: number, extra: Record<string, string> = {}) {
  const p = await startK2(
    simEnv(s, SYMBOLS, { K2_DATA_DIR: dataDir, K2_PORT: String(port), ...extra }),
    20_000,
  );
  cleanups.push(() => p.cleanup());
  return p;
}

/** Requests on fresh connections every `everyMs` until stopped; every failure is kept. */
function client(url: string, everyMs: number) {
  const failures: string[] = [];
  let sent = 0;
  let stop = false;
  const paths = [
    "/health/ready",
    "/v1/trades?symbol=BTCUSDT&limit=5&order=desc",
    "/v1/quotes?symbol=ETHUSDT&limit=5&order=desc",
  ];
  const done = (async () => {
    for (let i = 0; !stop && i < 100_000; i++) {
      const path = paths[i % paths.length]!;
      sent++;
      try {
        const r = await fetch(`${url}${path}`, { headers: { connection: "close" } });
        await r.arrayBuffer();
        if (r.status !== 200) failures.push(`${path}: HTTP ${r.status}`);
      } catch (e) {
        failures.push(`${path}: ${(e as Error).message}`);
      }
      await Bun.sleep(everyMs);
    }
  })();
  return {
    failures,
    sent: () => sent,
    async stop() {
      stop = true;
      await done;
    },
  };
}

test("green takes over from blue: every trade, aggTrade and quote once; no request refused", async () => {
  const s = await sim();
  const dir = mkdtempSync(join(tmpdir(), "k2-handover-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const port = freePort();
  const blue = await k2(s, dir, port);
  await waitUntil(async () => (await s.stats()).connections >= 1, 10_000, "blue's session");
  await s.pause(false);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/health/ready`)).status === 200, 10_000, "blue ready");
  const load = client(url, 25);
  await Bun.sleep(1000);
  const green = await k2(s, dir, port);
  expect(await blue.proc.exited).toBe(0);
  await waitUntil(() => green.logs().includes('"msg":"handover complete"'), 10_000, "green's summary line");
  await Bun.sleep(1000);
  await load.stop();

  await s.pause(true);
  const gt = await s.groundTruth();
  const want = truthOf(gt, SYMBOLS, ["trades", "agg_trades", "quotes"]);
  await waitUntil(
    async () => {
      const r = (await (await fetch(`${url}/v1/trades?symbol=ETHUSDT&order=desc&limit=1`)).json()) as {
        data: { trade_id: number }[];
      };
      return r.data[0]?.trade_id === want.get("trades:ETHUSDT")!.at(-1);
    },
    10_000,
    "green to catch up",
  );
  expect((await green.stop()).code).toBe(0);

  expect(load.failures).toEqual([]);
  expect(load.sent()).toBeGreaterThan(40);
  await expectStored(dir, want);
  // The overlap, from green's own account: it received each stream's first row before blue's last.
  const line = green
    .logs()
    .split("\n")
    .find((l) => l.includes('"msg":"handover complete"'))!;
  const summary = JSON.parse(line) as {
    from_pid: number;
    cut: Record<string, number>;
    first: Record<string, number>;
  };
  expect(summary.from_pid).toBe(blue.proc.pid);
  for (const [key, first] of Object.entries(summary.first))
    expect({ key, overlapped: first <= summary.cut[key]! }).toEqual({ key, overlapped: true });
  expect(Object.keys(summary.first).length).toBe(SYMBOLS.length * 3);
}, 60_000);
