/**
 * A recorder with many books (issue 18): 60 symbols with `trade,depth` make 240 (table, symbol)
 * batches open at once (trades and three book tables). The bus sink's batch pool must hold them
 * all, as the single process's does (src/pipeline/storage.ts batchPool): with the pool fixed at 64
 * the ring filled to 90 %, the recorder degraded to level 3-4 and published ~2,000 rows/s instead
 * of ~40,000 (measured 2026-12-04 while building this test).
 */
import { afterEach, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { simEnv, waitUntil } from "../../test/support/bounded-run.ts";
import { type K2Process, startK2 } from "../../test/support/k2-process.ts";
import { type NatsCluster, startNatsCluster } from "../../test/support/nats-cluster.ts";

let nats: NatsCluster | undefined;
let sim: Simulator | undefined;
let recorder: K2Process | undefined;

afterEach(async () => {
  recorder?.cleanup();
  await sim?.stop();
  sim = undefined;
  await nats?.stopAll();
  nats = undefined;
});

const gauge = (text: string, name: string) =>
  Number(new RegExp(`^${name} ([0-9.e+-]+)`, "m").exec(text)?.[1] ?? Number.NaN);

test("a recorder keeps up with 60 books: no degradation, the ring nearly empty", async () => {
  const symbols = Array.from({ length: 60 }, (_, i) => `S${i}USDT`);
  nats = await startNatsCluster();
  sim = await startSimulator({ symbols, books: true, ratePerSec: 200, seed: 60 });
  recorder = await startK2(
    simEnv(sim, symbols, {
      K2_ROLE: "recorder",
      K2_STREAMS: "trade,depth",
      K2_NATS_URL: nats.urls.join(","),
      K2_NATS_STREAM: "K2BOOKS60",
      K2_NATS_REPLICAS: "3",
      K2_FLUSH_INTERVAL_MS: "1000",
      K2_BOOK_SNAPSHOT_LIMIT: "100",
      K2_RATE_LIMIT_PER_S: "10000",
    }),
    20_000,
  );
  const metrics = async () => await (await fetch(`${recorder!.url}/metrics`)).text();
  await waitUntil(async () => gauge(await metrics(), "k2_books_synced") === 60, 20_000, "60 books synced");
  const first = gauge(await metrics(), "k2_rows_published_total");
  const samples: { fill: number; level: number }[] = [];
  for (let i = 0; i < 6; i++) {
    await Bun.sleep(1000);
    const t = await metrics();
    samples.push({ fill: gauge(t, "k2_ring_fill_ratio"), level: gauge(t, "k2_degradation_level") });
  }
  const published = gauge(await metrics(), "k2_rows_published_total") - first;
  console.log(
    `60 books on a recorder: ${Math.round(published / 6)} rows/s published, ${JSON.stringify(samples)}`,
  );
  for (const s of samples) {
    expect(s.level).toBe(0);
    expect(s.fill).toBeLessThan(0.5);
  }
  expect(published / 6).toBeGreaterThan(10_000);
  expect((await recorder.stop()).code).toBe(0);
}, 90_000);
