/**
 * Redundant recorders on JetStream (issue 14), against the simulator's ground truth: two
 * recorders of the same symbols and streams, one writer. Every trade, aggTrade and quote once —
 * quotes included, which no REST repair could bring back — whatever happens to one recorder.
 */
import { afterEach, expect, test } from "bun:test";
import { Glob } from "bun";
import { shardOf } from "../../src/bus/index.ts";
import { writerId } from "../../src/roles/writer.ts";
import { expectStored } from "../../test/support/bounded-run.ts";
import {
  type ClusterRig,
  resumeWhenRecording,
  startClusterRig,
  truthLine,
} from "../../test/support/cluster-rig.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
let rig: ClusterRig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

test("two recorders, one SIGKILLed mid-stream, one writer: every trade, aggTrade and quote once", async () => {
  rig = await startClusterRig(SYMBOLS);
  const writer = await rig.writer();
  const a = await rig.recorder();
  // B cuts its batches later than A: its copies reach the writer after A's rows are in files,
  // so the writer must find them there (not only among the rows it is gathering).
  const b = await rig.recorder({ K2_FLUSH_INTERVAL_MS: "4000", K2_HEALTH_MGMT_MS: "1000" });
  await resumeWhenRecording(rig, 2);
  await Bun.sleep(1500);
  a.proc.kill("SIGKILL");
  await a.proc.exited;
  await Bun.sleep(3000);
  const { truth } = await rig.settle();
  // The writer dropped the copies: both recorders published the first 1.5 s.
  const metrics = await (await fetch(`${writer.url}/metrics`)).text();
  expect((await b.stop()).code).toBe(0);
  expect((await writer.stop()).code).toBe(0);
  await expectStored(rig.dataDir, truth);
  console.log(truthLine("two recorders, one SIGKILLed", truth));
  expect(Number(/^k2_duplicates_dropped_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  // A recorder's status line says how fast it takes rows in, as a single process's does.
  expect(b.logs()).toMatch(/"rows_per_s":[1-9]\d*[^\n]*"msg":"management tick"/);
}, 90_000);

test("two writer shards: disjoint symbol sets, together every row once", async () => {
  const symbols = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"];
  // The test needs both shards to own something: these four split 2 + 2 under K2's hash.
  expect(new Set(symbols.map((s) => shardOf(s, 2))).size).toBe(2);
  rig = await startClusterRig(symbols, 50);
  const shard = { K2_SHARDS: "2" };
  const w1 = await rig.writer({ ...shard, K2_WRITER_SHARD: "1" });
  const w2 = await rig.writer({ ...shard, K2_WRITER_SHARD: "2" });
  const recorder = await rig.recorder(shard);
  await resumeWhenRecording(rig, 1);
  await Bun.sleep(2000);
  const { truth } = await rig.settle();
  // Each writer wrote rows of its own shard's symbols only: its count equals what is stored for them.
  const written = async (url: string) =>
    Number(/^k2_rows_written_total (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
  const counts = [await written(w1.url), await written(w2.url)];
  expect((await recorder.stop()).code).toBe(0);
  for (const w of [w1, w2]) expect((await w.stop()).code).toBe(0);
  await expectStored(rig.dataDir, truth);
  console.log(truthLine("two writer shards", truth));
  const perShard = [0, 0];
  for (const [key, ids] of truth) perShard[shardOf(key.split(":")[1]!, 2)]! += ids.length;
  expect(perShard.every((n) => n > 0)).toBe(true);
  expect(counts).toEqual(perShard);
  // Every file names the writer that wrote it: the writer of its symbol's shard.
  const names = new Glob("*/*/*/*.parquet").scanSync(rig.dataDir);
  let files = 0;
  for (const path of names) {
    const symbol = /symbol=([^/]+)\//.exec(path)![1]!;
    expect(path).toEndWith(`-${writerId(shardOf(symbol, 2) + 1, 2)}.parquet`);
    files++;
  }
  expect(files).toBeGreaterThan(0);
}, 90_000);
