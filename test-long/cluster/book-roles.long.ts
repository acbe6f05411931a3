/**
 * Order books in the scale-out roles (issue 18): the simulator's real books recorded by two
 * recorders (one SIGKILLed mid-run and started again on its WAL), written by one writer, answered by a query node — all over a
 * private 3-node NATS cluster. The books the query node rebuilds from the writer's files at
 * instants across the run equal the simulator's true books level for level, except where the
 * stored chain of updates was broken (skipped diff events: both recorders missed them), which the
 * node answers `not_synced`; every book_deltas row is stored once although both recorders
 * published it; the live book is refused 501 naming the role that keeps it.
 * ~15 s: in `make test-long` and `make test-cluster` (CI runs both suites), to keep `make test`
 * under its 5-minute budget.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { mulberry32 } from "../../src/resilience/backoff.ts";
import { type Simulator, startSimulator, type TrueBook } from "../../src/sim/index.ts";
import { simEnv, waitUntil } from "../../test/support/bounded-run.ts";
import { type K2Process, startK2 } from "../../test/support/k2-process.ts";
import { type NatsCluster, startNatsCluster } from "../../test/support/nats-cluster.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const INSTANTS = 60;

interface Level {
  price: string;
  quantity: string;
}
interface Answer {
  state: string;
  update_id: number;
  bids: Level[];
  asks: Level[];
  resync?: { from_update_id: number };
}

const iso = (us: number) =>
  `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 23)}${String(us % 1000).padStart(3, "0")}Z`;
const truthText = (ls: readonly [number, number][]) =>
  ls.map(([p, q]) => `${(p / 1e8).toFixed(8)}:${(q / 1e8).toFixed(8)}`).join(" ");
const levelsText = (ls: readonly Level[]) => ls.map((l) => `${l.price}:${l.quantity}`).join(" ");

let nats: NatsCluster | undefined;
let sim: Simulator | undefined;
const procs: K2Process[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) p.cleanup();
  await sim?.stop();
  sim = undefined;
  await nats?.stopAll();
  nats = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function bookAt(url: string, symbol: string, atUs: number): Promise<Answer> {
  const r = await fetch(`${url}/v1/book?symbol=${symbol}&levels=5000&at=${iso(atUs)}`);
  if (r.status !== 200) throw new Error(`/v1/book ${r.status}: ${await r.text()}`);
  return (await r.json()) as Answer;
}

async function booksSynced(recorder: K2Process): Promise<number> {
  const text = await (await fetch(`${recorder.url}/metrics`)).text();
  return Number(/^k2_books_synced (\d+)/m.exec(text)?.[1] ?? 0);
}

/** Per symbol: rows and distinct delta ids of book_deltas, and the distinct diff events stored. */
async function storedDeltas(dataDir: string) {
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const conn = await db.connect();
  try {
    const glob = join(dataDir, "book_deltas", "*", "*", "*.parquet");
    const r = await conn.runAndReadAll(
      `SELECT symbol, count(*) AS n, count(DISTINCT delta_id) AS d,
              count(DISTINCT last_update_id) FILTER (WHERE NOT is_snapshot) AS events
       FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY symbol`,
    );
    return new Map(
      r
        .getRowObjectsJS()
        .map((o) => [
          String(o.symbol),
          { rows: Number(o.n), distinct: Number(o.d), events: Number(o.events) },
        ]),
    );
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

test("books through recorders, a writer and a query node equal the simulator's true books", async () => {
  nats = await startNatsCluster();
  sim = await startSimulator({ symbols: SYMBOLS, books: true, ratePerSec: 40, seed: 1818 });
  const dataDir = mkdtempSync(join(tmpdir(), "k2-book-roles-"));
  dirs.push(dataDir);
  const env = simEnv(sim, SYMBOLS, {
    K2_STREAMS: "trade,depth",
    K2_NATS_URL: nats.urls.join(","),
    K2_NATS_STREAM: "K2BOOKS",
    K2_NATS_REPLICAS: "3",
    K2_NATS_ACK_WAIT_MS: "2000",
    K2_FLUSH_INTERVAL_MS: "250",
    K2_BOOK_CHECKPOINT_MS: "2000",
    K2_BOOK_SNAPSHOT_MS: "500",
    K2_RATE_LIMIT_PER_S: "10000", // the test asks for many books quickly
  });
  const start = async (extra: Record<string, string>) => {
    const p = await startK2({ ...env, ...extra }, 20_000);
    procs.push(p);
    return p;
  };
  const writer = await start({ K2_ROLE: "writer", K2_DATA_DIR: dataDir });
  const [a, b] = await Promise.all([start({ K2_ROLE: "recorder" }), start({ K2_ROLE: "recorder" })]);
  const query = await start({ K2_ROLE: "query", K2_DATA_DIR: dataDir });
  await waitUntil(
    async () => (await booksSynced(a!)) === 2 && (await booksSynced(b!)) === 2,
    15_000,
    "both recorders' books synced",
  );
  const fromUs = sim.nowMs() * 1000 + 200_000;
  await Bun.sleep(1500);
  sim.faults.skipDepthUpdates(2, "BTCUSDT"); // both recorders miss them: a break in the stored chain
  await Bun.sleep(1500);
  a!.proc.kill("SIGKILL"); // the other recorder's copy carries on alone
  await a!.proc.exited;
  await Bun.sleep(500);
  // Back on its folder: its WAL's unacked book rows are published again (the writer drops them).
  const again = await start({ K2_ROLE: "recorder", K2_DATA_DIR: a!.dataDir });
  await Bun.sleep(500);
  sim.faults.skipDepthUpdates(1, "ETHUSDT");
  await Bun.sleep(1500);
  sim.faults.pause(true);
  const toUs = sim.nowMs() * 1000;
  const truth = sim.groundTruth();
  const dropped = SYMBOLS.flatMap((s) =>
    truth.symbols[s]!.book!.droppedDiffs["100ms"].map(([, u]) => ({ s, u })),
  );
  expect(dropped.length).toBe(3);

  // Stored once and vouched for: the quiet books' top snapshots after the pause reach the files.
  const lastDrop = sim.bookAt("ETHUSDT", { updateId: dropped.at(-1)!.u }) as TrueBook;
  await waitUntil(
    async () => {
      const last = await bookAt(query.url, "BTCUSDT", toUs);
      const eth = await bookAt(query.url, "ETHUSDT", toUs);
      return last.state === "synced" && eth.state === "synced";
    },
    15_000,
    "the end of the run answered from the files",
  );

  // The instant each skipped event was due on the stream (its E) is not synced; the rest equal
  // the truth. Not the time of change u: a lagging simulator stamps it before the previous event's
  // E, an instant the stored chain still holds.
  for (const { s, u } of dropped) {
    const t = sim.diffEventUs(s, u)!;
    expect({ s, u, state: (await bookAt(query.url, s, t)).state }).toEqual({ s, u, state: "not_synced" });
  }
  expect(lastDrop.timeUs).toBeLessThan(toUs);
  let equal = 0;
  let notSynced = 0;
  const rnd = mulberry32(18);
  const ms: number[] = [];
  for (let i = 0; i < INSTANTS; i++) {
    const s = SYMBOLS[i % SYMBOLS.length]!;
    const at = Math.floor(fromUs + rnd() * (toUs - fromUs));
    const t0 = performance.now();
    const got = await bookAt(query.url, s, at);
    ms.push(performance.now() - t0);
    if (got.state === "not_synced") {
      notSynced++;
      continue;
    }
    const want = sim.bookAt(s, { publishedUs: at }) as TrueBook;
    expect({
      s,
      at,
      state: got.state,
      u: got.update_id,
      bids: levelsText(got.bids),
      asks: levelsText(got.asks),
    }).toEqual({
      s,
      at,
      state: "synced",
      u: want.updateId,
      bids: truthText(want.bids),
      asks: truthText(want.asks),
    });
    equal++;
  }
  expect(equal).toBeGreaterThan(INSTANTS * 0.6);

  // The book every 100 ms from the stored deltas (a skipped pair of events costs ≥ 300 ms).
  const q = `symbol=BTCUSDT&start=${iso(fromUs)}&end=${iso(toUs)}&interval=100&levels=10`;
  const series = (await (await fetch(`${query.url}/v1/book/snapshots?${q}`)).json()) as {
    snapshots: (Answer & { time_us: number })[];
  };
  let seriesEqual = 0;
  for (const snap of series.snapshots) {
    if (snap.state !== "synced") continue;
    const want = sim.bookAt("BTCUSDT", { publishedUs: snap.time_us }, 10) as TrueBook;
    expect({ t: snap.time_us, bids: levelsText(snap.bids), asks: levelsText(snap.asks) }).toEqual({
      t: snap.time_us,
      bids: truthText(want.bids),
      asks: truthText(want.asks),
    });
    seriesEqual++;
  }
  expect(seriesEqual).toBeGreaterThan(series.snapshots.length / 2);
  expect(series.snapshots.length - seriesEqual).toBeGreaterThan(0); // the skipped events' window

  // Two recorders published every event; each row is in the files once.
  const stored = await storedDeltas(dataDir);
  for (const s of SYMBOLS) {
    const st = stored.get(s)!;
    expect({ s, rows: st.rows }).toEqual({ s, rows: st.distinct });
    expect(st.events).toBeGreaterThan(30); // ~10 diff events a second for ~6 s
  }
  const deltas = await fetch(`${query.url}/v1/book/deltas?symbol=ETHUSDT&start=${iso(fromUs)}&limit=10`);
  expect(deltas.status).toBe(200);
  expect(((await deltas.json()) as { data: unknown[] }).data.length).toBe(10);

  // The live book is the recorders' (no /v1 there): refused with the role that has it.
  for (const path of ["/v1/book?symbol=BTCUSDT", "/v1/book/stream?symbol=BTCUSDT"]) {
    const r = await fetch(`${query.url}${path}`);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect({ path, status: r.status, code: body.error.code }).toEqual({
      path,
      status: 501,
      code: "not_on_this_role",
    });
    expect(body.error.message).toContain("K2_ROLE=recorder");
  }
  const replayed = Number(/"replayed":(\d+)/.exec(again.logs())?.[1] ?? -1);
  expect(replayed).toBeGreaterThan(0); // what it had not seen acked came again
  ms.sort((x, y) => x - y);
  console.log(
    `book roles: ${equal} instants equal, ${notSynced} not synced, ${seriesEqual}/${series.snapshots.length} series equal; ${replayed} WAL records replayed after the SIGKILL; at= p50 ${ms[INSTANTS >> 1]!.toFixed(1)} ms, max ${ms.at(-1)!.toFixed(1)} ms`,
  );
  expect((await again.stop()).code).toBe(0);
  expect((await b!.stop()).code).toBe(0);
  expect((await writer.stop()).code).toBe(0);
  expect((await query.stop()).code).toBe(0);
}, 90_000);
