/**
 * Writers and query nodes on an object store (K2_DATA_DIR=s3://…, a real S3 server on loopback):
 * the bucket, read back with an independent client, holds every trade, aggTrade and quote once;
 * a query node starting on an empty local folder downloads it and answers from it.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectStored, waitUntil } from "../../test/support/bounded-run.ts";
import {
  type ClusterRig,
  resumeWhenRecording,
  startClusterRig,
  truthLine,
} from "../../test/support/cluster-rig.ts";
import { S3rverHarness } from "../../test/support/s3rver.ts";

let rig: ClusterRig | undefined;
let s3: S3rverHarness | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await rig?.close();
  rig = undefined;
  await s3?.dispose();
  s3 = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tempDir = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `k2-${name}-`));
  dirs.push(d);
  return d;
};

test("a writer on s3://: the bucket holds every row once; a query node downloads it and answers", async () => {
  s3 = new S3rverHarness("k2-cluster");
  await s3.start();
  rig = await startClusterRig(["BTCUSDT", "ETHUSDT"]);
  // The writer's local copy is the rig's folder, so the rig can see when it has caught up.
  const writer = await rig.writer({ ...s3.env("market"), K2_LOCAL_DIR: rig.dataDir });
  const recorder = await rig.recorder();
  await resumeWhenRecording(rig, 1);
  await Bun.sleep(2000);
  const { truth } = await rig.settle();
  expect((await recorder.stop()).code).toBe(0);
  expect((await writer.stop()).code).toBe(0);
  // The bucket on its own, through another client.
  const copy = tempDir("bucket");
  expect(await s3.download("market/", copy)).toBeGreaterThan(0);
  await expectStored(copy, truth);
  console.log(truthLine("writer on s3:// (the bucket read back)", truth));
  // A query node with an empty local folder: it downloads the objects and serves them.
  const local = tempDir("query-local");
  const query = await rig.query({ ...s3.env("market"), K2_LOCAL_DIR: local });
  const newest = truth.get("trades:BTCUSDT")!.at(-1)!;
  await waitUntil(
    async () => {
      const r = (await (await fetch(`${query.url}/v1/trades?symbol=BTCUSDT&limit=1&order=desc`)).json()) as {
        data: { trade_id: number }[];
      };
      return r.data[0]?.trade_id === newest;
    },
    15_000,
    "the query node serves the bucket's newest trade",
  );
  await expectStored(local, truth);
}, 120_000);
