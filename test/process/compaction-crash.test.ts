/**
 * SIGKILL in the middle of a compaction inside a running K2, then the ground truth. K2 compacts
 * every 100 ms (2 small files suffice) while it ingests and answers queries; the test freezes K2
 * (SIGSTOP) at random moments and looks at the disk: a merged file being written (`.tmp-`) or
 * renamed into place with its sources still present is a compaction caught in the middle, and K2
 * is killed right there (SIGKILL) — otherwise it is thawed (SIGCONT) and tried again later. After
 * the kills, the rebuild must hide and delete the superseded sources, and the stored ids must equal
 * the simulator's whole ground truth, once each.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import {
  expectWholeTruth,
  firstTradesDurable,
  pauseAndCatchUp,
  resumeWhenConnected,
  simEnv,
  waitUntil,
  wholeTruth,
} from "../support/bounded-run.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";
import { footerReplaces, mergesInFlight, partitionDirs } from "../support/partitions.ts";

let sim: Simulator | undefined;
const procs: K2Process[] = [];
afterEach(async () => {
  for (const p of procs.splice(0).reverse()) p.cleanup();
  await sim?.stop();
  sim = undefined;
});

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const MAX_KILLS = 10;
const HUNT_MS = 45_000;

type Caught = { kind: "writing" } | { kind: "renamed"; merged: string; sources: string[] };

/** Freeze K2 now and then until the disk shows a merge in flight; then kill it. */
async function killMidCompaction(k2: K2Process, deadline: number, rnd: () => number): Promise<Caught | null> {
  while (performance.now() < deadline && k2.proc.exitCode === null) {
    await Bun.sleep(5 + Math.floor(rnd() * 30));
    k2.proc.kill("SIGSTOP");
    let caught: Caught | null = null;
    for (const dir of partitionDirs(k2.dataDir, ["trades", "agg_trades"])) {
      for (const m of mergesInFlight(join(k2.dataDir, dir))) {
        if (m.file.temp) caught ??= { kind: "writing" };
        else if (m.covers.every((c) => footerReplaces(m.file.path).includes(c.name)))
          caught = { kind: "renamed", merged: m.file.path, sources: m.covers.map((c) => c.path) };
      }
    }
    if (caught) {
      k2.proc.kill("SIGKILL");
      await k2.proc.exited;
      return caught;
    }
    k2.proc.kill("SIGCONT");
  }
  return null;
}

test("SIGKILL while a compaction is in flight: superseded files never count, every trade once", async () => {
  sim = await startSimulator({ symbols: SYMBOLS, ratePerSec: 300, seed: 21, faults: { paused: true } });
  const s = sim;
  const env = (extra: Record<string, string> = {}) =>
    simEnv(s, SYMBOLS, {
      K2_FLUSH_INTERVAL_MS: "50",
      K2_MAINTENANCE_INTERVAL_MS: "100",
      K2_COMPACT_MIN_FILES: "2",
      ...extra,
    });
  // The first K2 compacts nothing: it only makes the run's first trades durable before the hunt.
  let k2 = await startK2(env({ K2_MAINTENANCE_INTERVAL_MS: "86400000" }));
  procs.push(k2);
  const dataDir = k2.dataDir;
  await resumeWhenConnected(s);
  await firstTradesDurable(s, dataDir, SYMBOLS);
  await k2.stop("SIGKILL");
  k2 = await startK2(env({ K2_DATA_DIR: dataDir }));
  procs.push(k2);
  let rnd = 777;
  const next = () => {
    rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
    return rnd / 2 ** 31;
  };
  const caught: Caught[] = [];
  const deadline = performance.now() + HUNT_MS;
  // Hunt until the last kill left a merged file beside its sources, after a kill mid-write if
  // one comes within MAX_KILLS (the rename case is the one the rebuild must clean up).
  const done = () =>
    caught.at(-1)?.kind === "renamed" &&
    (caught.some((c) => c.kind === "writing") || caught.length >= MAX_KILLS / 2);
  while (!done() && caught.length < MAX_KILLS && performance.now() < deadline) {
    const c = await killMidCompaction(k2, deadline, next);
    if (!c) break;
    caught.push(c);
    if (done()) break;
    k2 = await startK2(env({ K2_DATA_DIR: dataDir }));
    procs.push(k2);
  }
  const last = caught.at(-1);
  console.error(`compaction-crash: kills mid-compaction: ${caught.map((c) => c.kind).join(", ")}`);
  expect(last?.kind).toBe("renamed");
  if (last?.kind !== "renamed") return;
  for (const p of [last.merged, ...last.sources]) expect(existsSync(p)).toBe(true);

  // The last start runs no maintenance: only the rebuild at start can hide and remove the
  // sources the killed compaction had already merged (a later compaction would mask a bug).
  k2 = await startK2(env({ K2_DATA_DIR: dataDir, K2_MAINTENANCE_INTERVAL_MS: "86400000" }));
  procs.push(k2);
  for (const p of last.sources) expect(existsSync(p)).toBe(false);
  expect(existsSync(last.merged)).toBe(true);
  const url = k2.url;
  await waitUntil(async () => (await fetch(`${url}/health/ready`)).status === 200, 10_000, "ready");
  await pauseAndCatchUp(s, url, SYMBOLS);
  // The API (the catalog's view) serves each trade once as well as the files do.
  for (const sym of SYMBOLS) {
    const r = (await (await fetch(`${url}/v1/trades?symbol=${sym}&limit=10000`)).json()) as {
      data: { trade_id: number }[];
    };
    const truth = wholeTruth(s, "trades", sym);
    expect(truth.length).toBeLessThan(10_000); // one page holds the whole run
    expect(r.data.map((x) => x.trade_id)).toEqual(truth);
  }
  expect((await k2.stop()).code).toBe(0);
  for (const dir of partitionDirs(dataDir)) expect(mergesInFlight(join(dataDir, dir))).toEqual([]);
  await expectWholeTruth(dataDir, s, SYMBOLS);
}, 90_000);
