/**
 * Exactly once across a writer's crashes and a JetStream leader's death (issue 14), against the
 * simulator's whole ground truth (trades, aggTrades, quotes). `make test-cluster` (CI runs it).
 */
import { afterEach, expect, test } from "bun:test";
import { expectStored } from "../../test/support/bounded-run.ts";
import {
  type ClusterRig,
  resumeWhenRecording,
  startClusterRig,
  truthLine,
} from "../../test/support/cluster-rig.ts";

let rig: ClusterRig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

test("a writer SIGKILLed 5 times: its messages come again and every row is stored once", async () => {
  rig = await startClusterRig(["BTCUSDT", "ETHUSDT"]);
  const recorder = await rig.recorder();
  let writer = await rig.writer();
  await resumeWhenRecording(rig, 1);
  for (let i = 0; i < 5; i++) {
    await Bun.sleep(700 + 300 * i);
    writer.proc.kill("SIGKILL");
    await writer.proc.exited;
    writer = await rig.writer();
  }
  const { truth } = await rig.settle();
  expect((await recorder.stop()).code).toBe(0);
  expect((await writer.stop()).code).toBe(0);
  await expectStored(rig.dataDir, truth);
  console.log(truthLine("writer SIGKILLed 5 times", truth));
}, 120_000);

test("the stream's leader SIGKILLed mid-stream: the other two carry on, every row once", async () => {
  rig = await startClusterRig(["BTCUSDT", "ETHUSDT"]);
  const writer = await rig.writer();
  const recorder = await rig.recorder();
  await resumeWhenRecording(rig, 1);
  await Bun.sleep(1500);
  await rig.nats.kill(await rig.nats.leaderOf("K2TEST"));
  await Bun.sleep(2500);
  const { truth } = await rig.settle();
  expect((await recorder.stop()).code).toBe(0);
  expect((await writer.stop()).code).toBe(0);
  await expectStored(rig.dataDir, truth);
  console.log(truthLine("stream leader SIGKILLed", truth));
}, 90_000);

test("the whole NATS cluster down 30 s: the recorder holds its rows in its WAL, then every row once", async () => {
  rig = await startClusterRig(["BTCUSDT", "ETHUSDT"]);
  const writer = await rig.writer();
  const recorder = await rig.recorder();
  await resumeWhenRecording(rig, 1);
  await Bun.sleep(1500);
  for (let i = 0; i < 3; i++) await rig.nats.kill(i);
  await Bun.sleep(30_000);
  // The outage is seen: the recorder is not ready, its rows wait unacked.
  const ready = (await (await fetch(`${recorder.url}/health/ready`)).json()) as {
    checks: Record<string, { ok: boolean }>;
  };
  expect(ready.checks.bus?.ok).toBe(false);
  for (let i = 0; i < 3; i++) await rig.nats.restart(i);
  const { truth } = await rig.settle(60_000);
  expect((await recorder.stop()).code).toBe(0);
  expect((await writer.stop()).code).toBe(0);
  await expectStored(rig.dataDir, truth);
  console.log(truthLine("NATS cluster down 30 s", truth));
}, 150_000);
