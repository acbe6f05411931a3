/**
 * A query node (K2_ROLE=query) reads only the shared folder the writers fill; its answers equal a
 * single-process K2's over a copy of the same files, body for body (issue 14 item 5).
 */
import { afterEach, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simEnv } from "../../test/support/bounded-run.ts";
import { type ClusterRig, resumeWhenRecording, startClusterRig } from "../../test/support/cluster-rig.ts";
import { startK2 } from "../../test/support/k2-process.ts";

let rig: ClusterRig | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await rig?.close();
  rig = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The body without what says when it was asked (freshness), which two processes cannot share. */
async function answer(base: string, path: string) {
  const r = await fetch(`${base}${path}`);
  const body = (await r.json()) as { meta?: Record<string, unknown> };
  if (body.meta)
    for (const k of ["data_freshness_ms", "freshness_ms", "as_of_us", "request_id"]) delete body.meta[k];
  return { status: r.status, body };
}

test("a query node answers as a single-process K2 over the same files", async () => {
  const symbols = ["BTCUSDT", "ETHUSDT"];
  rig = await startClusterRig(symbols);
  const writer = await rig.writer();
  const recorder = await rig.recorder();
  await resumeWhenRecording(rig, 1);
  await Bun.sleep(2000);
  await rig.settle();
  const query = await rig.query();
  // The same files, owned by a single process on the paused market (it adds nothing new).
  const copy = mkdtempSync(join(tmpdir(), "k2-single-"));
  dirs.push(copy);
  cpSync(rig.dataDir, copy, { recursive: true });
  const single = await startK2(simEnv(rig.sim, symbols, { K2_DATA_DIR: copy }), 20_000);
  try {
    const paths = [
      "/v1/trades?symbol=BTCUSDT&limit=1000",
      "/v1/trades?symbol=ETHUSDT&limit=50&order=desc",
      "/v1/agg-trades?symbol=BTCUSDT&limit=1000",
      "/v1/quotes?symbol=ETHUSDT&limit=1000",
      "/v1/ohlcv?symbol=BTCUSDT&interval=1s",
      "/v1/symbols",
    ];
    let rows = 0;
    for (const p of paths) {
      const a = await answer(query.url, p);
      const b = await answer(single.url, p);
      expect({ p, ...a }).toEqual({ p, ...b });
      expect(a.status).toBe(200);
      rows += ((a.body as { data?: unknown[] }).data ?? []).length;
    }
    expect(rows).toBeGreaterThan(100);
  } finally {
    single.cleanup();
  }
  expect((await recorder.stop()).code).toBe(0);
  expect((await writer.stop()).code).toBe(0);
}, 90_000);

test("a query node serves the newest rows from the stream before any file holds them", async () => {
  rig = await startClusterRig(["BTCUSDT"]);
  // No writer: no file will ever exist, so whatever the node answers came from the stream.
  const query = await rig.query();
  const recorder = await rig.recorder();
  await resumeWhenRecording(rig, 1);
  await Bun.sleep(1500);
  await rig.sim.pause(true);
  const gt = await rig.sim.groundTruth();
  const newest = gt.symbols.BTCUSDT!.tradeIds.at(-1)![1];
  let got = -1;
  const deadline = Date.now() + 10_000;
  while (got !== newest && Date.now() < deadline) {
    const r = (await (await fetch(`${query.url}/v1/trades?symbol=BTCUSDT&limit=1&order=desc`)).json()) as {
      data: { trade_id: number }[];
    };
    got = r.data[0]?.trade_id ?? -1;
    if (got !== newest) await Bun.sleep(100);
  }
  expect(got).toBe(newest);
  expect((await recorder.stop()).code).toBe(0);
}, 60_000);
