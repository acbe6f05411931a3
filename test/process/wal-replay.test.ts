/**
 * WAL replay, with nothing else able to help: REST answers 500 for the whole test, so a row that
 * reaches Parquet after a SIGKILL can only have come back from the write-ahead log. The first K2
 * cuts no file (a 10-minute flush interval) and is killed; the WAL is read by an independent
 * reader (test/support/wal-ids.ts) and Parquet by DuckDB; a second K2 must store every row the WAL
 * held exactly once, say how many it replayed, and ledger the downtime it could not repair.
 * (A SIGKILL leaves written-but-not-fsynced records in the page cache, so the records read here are
 * a superset of those fsynced before the kill: the assertion is the stronger one.)
 * The first K2 reads with K2's own WebSocket client (K2_WS_CLIENT=raw), whose row frames reach the
 * WAL as the socket's bytes with no string; the second with Bun's: the records must replay alike.
 */
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import {
  newestId,
  pauseAndCatchUp,
  resumeWhenConnected,
  simEnv,
  waitUntil,
  wholeTruth,
} from "../support/bounded-run.ts";
import { type K2Process, startK2 } from "../support/k2-process.ts";
import { storedTradeIds } from "../support/stored.ts";
import { walIds } from "../support/wal-ids.ts";

let sim: Simulator | undefined;
const procs: K2Process[] = [];
afterEach(async () => {
  for (const p of procs.splice(0).reverse()) p.cleanup();
  await sim?.stop();
  sim = undefined;
});

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const TABLES = ["trades", "agg_trades", "quotes"] as const;

async function stored(dataDir: string) {
  const out = new Map<string, { ids: number[]; rows: number; distinct: number }>();
  for (const t of TABLES) for (const [sym, v] of await storedTradeIds(dataDir, t)) out.set(`${t}:${sym}`, v);
  return out;
}

test("SIGKILL with REST down: every row in the WAL is stored once, from the WAL alone", async () => {
  sim = await startSimulator({
    symbols: SYMBOLS,
    ratePerSec: 200,
    seed: 11,
    faults: { paused: true, rest: { status: 500 } },
  });
  const s = sim;
  const first = await startK2(simEnv(s, SYMBOLS, { K2_FLUSH_INTERVAL_MS: "600000", K2_WS_CLIENT: "raw" }));
  procs.push(first);
  const dataDir = first.dataDir;
  await resumeWhenConnected(s);
  const start = s.options.startTradeId;
  for (const sym of SYMBOLS)
    await waitUntil(
      async () => (await newestId(first.url, "trades", sym)) >= start + 150,
      10_000,
      `${sym} rows`,
    );
  await Bun.sleep(100); // a few WAL fsync intervals (20 ms)
  await first.stop("SIGKILL");

  const wal = walIds(join(dataDir, "wal")).ids;
  const before = await stored(dataDir);
  let inWalOnly = 0;
  for (const [key, ids] of wal) {
    const have = new Set(before.get(key)?.ids ?? []);
    for (const id of ids) if (!have.has(id)) inWalOnly++;
  }
  for (const sym of SYMBOLS) expect(wal.get(`trades:${sym}`)?.size ?? 0).toBeGreaterThanOrEqual(150);
  expect(inWalOnly).toBeGreaterThan(0); // rows only the WAL has: the restart must bring them back

  const second = await startK2(simEnv(s, SYMBOLS, { K2_DATA_DIR: dataDir, K2_WS_CLIENT: "bun" }));
  procs.push(second);
  const replayedLine = /"replayed":(\d+)[^\n]*"msg":"WAL replayed"/.exec(second.logs());
  expect(Number(replayedLine?.[1])).toBe(inWalOnly);
  // Live rows flow again, past the downtime REST cannot repair.
  for (const sym of SYMBOLS) {
    const walMax = Math.max(...(wal.get(`trades:${sym}`) ?? []));
    await waitUntil(
      async () => (await newestId(second.url, "trades", sym)) > walMax + 20,
      10_000,
      "live rows",
    );
  }
  await pauseAndCatchUp(s, second.url, SYMBOLS);
  const gaps = (await (await fetch(`${second.url}/v1/gaps`)).json()) as {
    data: { table: string; symbol: string; from_id: number; to_id: number; state: string }[];
  };
  expect((await second.stop()).code).toBe(0);

  const after = await stored(dataDir);
  for (const [key, ids] of wal) {
    const got = after.get(key);
    expect({ key, rows: got?.rows }).toEqual({ key, rows: got?.distinct }); // no duplicates
    const have = new Set(got?.ids ?? []);
    const lost = [...ids].filter((id) => !have.has(id));
    expect({ key, lost }).toEqual({ key, lost: [] });
  }
  // Nothing invented, and what is missing (the downtime) is in the ledger, not silently gone.
  for (const sym of SYMBOLS) {
    const truth = wholeTruth(s, "trades", sym);
    const have = new Set(after.get(`trades:${sym}`)!.ids);
    expect(after.get(`trades:${sym}`)!.ids.every((id) => truth.includes(id))).toBe(true);
    const missing = truth.filter((id) => !have.has(id));
    expect(missing.length).toBeGreaterThan(0); // REST was down: the downtime stays a gap
    const open = gaps.data.filter((g) => g.table === "trades" && g.symbol === sym && g.state !== "repaired");
    const unaccounted = missing.filter((id) => !open.some((g) => g.from_id <= id && id <= g.to_id));
    expect({ sym, unaccounted }).toEqual({ sym, unaccounted: [] });
  }
}, 60_000);
