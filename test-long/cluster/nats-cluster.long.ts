/**
 * The private cluster helper itself: three servers up, an R3 stream, the leader SIGKILLed and a
 * publish still acked by the survivors after re-election, the killed node restarted and current
 * again; stopAll leaves no process and no folder.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type NatsCluster, startNatsCluster } from "../../test/support/nats-cluster.ts";

let cluster: NatsCluster;
/** The node the first test killed (the second restarts it). */
let killed = -1;

beforeAll(async () => {
  cluster = await startNatsCluster({ nodes: 3 });
});

afterAll(async () => {
  await cluster?.stopAll();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("an R3 stream survives its leader's SIGKILL: a publish is acked after re-election", async () => {
  // Connected inside the test: a reconnect arms the client's ping timer, which close() clears.
  const nc = await cluster.connect();
  try {
    await leaderKill(nc);
  } finally {
    await nc.close();
  }
}, 15_000);

async function leaderKill(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "T", subjects: ["t.>"], num_replicas: 3 });
  const js = jetstream(nc, { timeout: 1000 });
  expect((await js.publish("t.a", "before", { msgID: "1" })).seq).toBe(1);

  const leader = await cluster.leaderOf("T");
  const pid = cluster.pid(leader)!;
  await cluster.kill(leader);
  killed = leader;
  expect(alive(pid)).toBe(false);

  // Bounded: server 2.9's raft takes seconds to elect a new leader (5-8 s here); until then nobody answers.
  const deadline = performance.now() + 12_000;
  let ack: Awaited<ReturnType<typeof js.publish>> | undefined;
  while (!ack && performance.now() < deadline) {
    ack = await js.publish("t.a", "after", { msgID: "2" }).catch(() => undefined);
    if (!ack) await Bun.sleep(50);
  }
  expect(ack?.seq).toBe(2);
  const next = await cluster.leaderOf("T");
  expect(next).not.toBe(leader);
  const info = await jsm.streams.info("T");
  expect(info.state.messages).toBe(2);
}

test("restart(i) brings a killed node back: it rejoins the stream and catches up on what it missed", async () => {
  expect(killed).toBeGreaterThanOrEqual(0);
  await cluster.restart(killed);
  const nc = await cluster.connect();
  try {
    // A node just restarted answers its first JetStream requests slowly, or not at all until it
    // has rejoined, on a loaded machine (CI timed one out at 10 s): a few bounded tries.
    let jsm: Awaited<ReturnType<typeof jetstreamManager>> | undefined;
    for (let attempt = 0; !jsm && attempt < 3; attempt++)
      jsm = await jetstreamManager(nc, { timeout: 8_000 }).catch(() => undefined);
    if (!jsm) throw new Error("no JetStream answer in 3 tries of 8 s after the restart");
    const name = cluster.names[killed];
    // Bounded: it replays its raft log and takes the message published while it was down.
    const deadline = performance.now() + 10_000;
    let current = false;
    while (!current && performance.now() < deadline) {
      const info = await jsm.streams.info("T").catch(() => undefined);
      current = info?.cluster?.replicas?.some((r) => r.name === name && r.current) ?? false;
      if (!current) await Bun.sleep(100);
    }
    expect(current).toBe(true);
    expect(cluster.pid(killed)).toBeGreaterThan(0);
  } finally {
    await nc.close();
    // A process started in a test is the test's to stop (the resource guard checks it).
    await cluster.kill(killed);
  }
}, 45_000);

test("stopAll stops every server by pid and removes the temp folder", async () => {
  const pids = [0, 1, 2].map((i) => cluster.pid(i)).filter((p): p is number => p !== undefined);
  expect(pids.length).toBeGreaterThan(0);
  expect(existsSync(cluster.dir)).toBe(true);
  await cluster.stopAll();
  for (const p of pids) expect(alive(p)).toBe(false);
  expect(existsSync(cluster.dir)).toBe(false);
});
