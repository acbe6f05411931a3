/**
 * The order-book proof (issue 18, part 6): a real K2 process records the simulator's books
 * through every depth fault — skipped update ids, snapshots answered 429, a snapshot older than
 * the diffs, a slow snapshot — and then, at random instants across the run, the book K2 rebuilds
 * from its own files (`/v1/book?at=`) must equal the simulator's true book as its diff stream had
 * published it by then (`bookAt({publishedUs})`), level for level; except inside resync windows,
 * which K2 must have ledgered (`book_resync` in /v1/gaps) and answered as not synced. Every diff
 * event the simulator dropped must lie inside a ledgered range. The live top of each book must
 * equal the simulator's bookTicker truth (its top at the book's update id), and K2's own stored
 * bookTicker rows must equal the top of its rebuilt books where a quote's update id ends a diff event.
 *
 * Used by `make test-long`
 * (test-long/book/proof.long.ts, 1,000 instants).
 */
import { expect } from "bun:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { mulberry32 } from "../../src/resilience/backoff.ts";
import type { Simulator, TrueBook } from "../../src/sim/index.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { simEnv, waitUntil } from "./bounded-run.ts";
import { type Gap, gapsOf } from "./gaps.ts";
import { type K2Process, startK2 } from "./k2-process.ts";

export interface ProofOptions {
  readonly instants: number;
  /** Clean trading between two faults (ms). */
  readonly phaseMs: number;
  readonly seed: number;
}

interface Level {
  price: string;
  quantity: string;
  state: string;
}
interface BookAnswer {
  base?: unknown;
  state: string;
  update_id: number;
  bids: Level[];
  asks: Level[];
}

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

function text(ls: readonly [number, number][]): string {
  return ls.map(([p, q]) => `${(p / 1e8).toFixed(8)}:${(q / 1e8).toFixed(8)}`).join(" ");
}
const levelsText = (ls: readonly Level[]) => ls.map((l) => `${l.price}:${l.quantity}`).join(" ");
const iso = (us: number) =>
  `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 23)}${String(us % 1000).padStart(3, "0")}Z`;

async function answer(k2: K2Process, symbol: string, atUs?: number): Promise<BookAnswer> {
  const at = atUs === undefined ? "" : `&at=${iso(atUs)}`;
  const r = await fetch(`${k2.url}/v1/book?symbol=${symbol}&levels=5000${at}`);
  if (r.status !== 200) throw new Error(`/v1/book ${r.status}: ${await r.text()}`);
  return (await r.json()) as BookAnswer;
}

/** /v1/book/stream: three `book` events of a synced, changing book, update ids rising, then the client leaves. */
async function liveStream(k2: K2Process, symbol: string): Promise<void> {
  const r = await fetch(`${k2.url}/v1/book/stream?symbol=${symbol}&levels=5&interval=200&max_seconds=10`);
  expect(r.headers.get("content-type")).toBe("text/event-stream");
  const reader = r.body!.getReader();
  const ids: number[] = [];
  let text = "";
  const deadline = performance.now() + 5000;
  while (ids.length < 3 && performance.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    for (let i = text.indexOf("\n\n"); i >= 0; i = text.indexOf("\n\n")) {
      const ev = text.slice(0, i);
      text = text.slice(i + 2);
      if (!ev.startsWith("event: book\n")) continue;
      const a = JSON.parse(ev.slice(ev.indexOf("data: ") + 6)) as BookAnswer;
      expect(a.state).toBe("synced");
      expect(a.bids.length).toBe(5);
      ids.push(a.update_id);
    }
  }
  await reader.cancel();
  expect(ids.length).toBe(3);
  expect(ids[1]!).toBeGreaterThan(ids[0]!);
  expect(ids[2]!).toBeGreaterThan(ids[1]!);
}

/**
 * The same snapshots as Parquet (format=parquet), read by DuckDB: one row per level in the long
 * layout, equal to the JSON answer level for level, and a row with null levels for a snapshot
 * without any.
 */
async function seriesAsParquet(k2: K2Process, q: string): Promise<void> {
  const json = (await (await fetch(`${k2.url}/v1/book/snapshots?${q}`)).json()) as {
    snapshots: (BookAnswer & { time_us: number })[];
  };
  const r = await fetch(`${k2.url}/v1/book/snapshots?${q}&format=parquet`);
  expect(r.headers.get("content-type")).toContain("parquet");
  const path = `${k2.dataDir}/series-${Date.now()}.parquet`;
  await Bun.write(path, await r.arrayBuffer());
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const con = await db.connect();
  const rows = (
    await con.runAndReadAll(
      `SELECT epoch_us(time_us) AS t, state, update_id AS u, side, level, price::VARCHAR AS p, quantity::VARCHAR AS q
       FROM read_parquet('${path}') ORDER BY t, side DESC, level`,
    )
  ).getRowObjects() as Record<string, unknown>[];
  con.closeSync();
  db.closeSync();
  type Row = {
    t: number;
    state: string;
    u: number;
    side: string | null;
    level: number | null;
    p: string | null;
    q: string | null;
  };
  const want: Row[] = json.snapshots.flatMap((s): Row[] =>
    s.bids.length + s.asks.length === 0
      ? [{ t: s.time_us, state: s.state, u: s.update_id, side: null, level: null, p: null, q: null }]
      : [
          ...s.bids.map((l, i) => ({
            t: s.time_us,
            state: s.state,
            u: s.update_id,
            side: "bid",
            level: i,
            p: l.price,
            q: l.quantity,
          })),
          ...s.asks.map((l, i) => ({
            t: s.time_us,
            state: s.state,
            u: s.update_id,
            side: "ask",
            level: i,
            p: l.price,
            q: l.quantity,
          })),
        ],
  );
  expect(
    rows.map((x) => ({
      ...x,
      t: Number(x.t),
      u: Number(x.u),
      level: x.level === null ? null : Number(x.level),
    })),
  ).toEqual(want);
}

/**
 * Stored quotes (bookTicker) whose update id is the last of a stored diff event, read from K2's
 * files with DuckDB; for up to `most` of them, spread over the run, the top of `/v1/book?at=` the
 * event's time must be the quote. Returns how many were compared (books not synced there skip).
 */
async function tickersAgainstBooks(k2: K2Process, most: number): Promise<number> {
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const con = await db.connect();
  const files = (t: string) => `read_parquet('${k2.dataDir}/${t}/**/*.parquet', hive_partitioning = false)`;
  const rows = (
    await con.runAndReadAll(`
      WITH e AS (SELECT DISTINCT symbol, last_update_id AS u, epoch_us(event_time_us) AS t
                 FROM ${files("book_deltas")} WHERE NOT is_snapshot)
      SELECT q.symbol, t, bid_price::VARCHAR AS bp, bid_quantity::VARCHAR AS bq,
             ask_price::VARCHAR AS ap, ask_quantity::VARCHAR AS aq
      FROM ${files("quotes")} q JOIN e ON q.symbol = e.symbol AND q.update_id = e.u
      ORDER BY q.symbol, t`)
  ).getRowObjects() as { symbol: string; t: bigint; bp: string; bq: string; ap: string; aq: string }[];
  con.closeSync();
  db.closeSync();
  let compared = 0;
  const step = Math.max(1, Math.floor(rows.length / most));
  for (let i = 0; i < rows.length; i += step) {
    const q = rows[i]!;
    const got = await answer(k2, q.symbol, Number(q.t));
    if (got.state !== "synced") continue;
    expect(`${levelsText(got.bids.slice(0, 1))} | ${levelsText(got.asks.slice(0, 1))}`).toBe(
      `${q.bp}:${q.bq} | ${q.ap}:${q.aq}`,
    );
    compared++;
  }
  return compared;
}

export async function runBookProof(o: ProofOptions) {
  let sim: Simulator | undefined;
  let k2: K2Process | undefined;
  try {
    sim = await startSimulator({ symbols: SYMBOLS, books: true, ratePerSec: 40, seed: o.seed });
    k2 = await startK2(
      simEnv(sim, SYMBOLS, {
        K2_STREAMS: "trade,bookTicker,depth,depth20",
        K2_BOOK_CHECKPOINT_MS: "2000",
        K2_BOOK_SNAPSHOT_MS: "500",
        K2_FLUSH_INTERVAL_MS: "200",
        K2_RATE_LIMIT_PER_S: "10000", // the proof asks for many books quickly
      }),
    );
    const live = k2;
    const synced = async () =>
      (await Promise.all(SYMBOLS.map((s) => answer(live, s)))).every((a) => a.state === "synced");
    await waitUntil(synced, 15_000, "both books synced");
    await liveStream(live, "BTCUSDT");
    const fromUs = sim.nowMs() * 1000 + 100_000;
    const faults = sim.faults;
    const phase = () => Bun.sleep(o.phaseMs);
    await phase();
    faults.skipDepthUpdates(2, "BTCUSDT"); // a hole: resync
    await phase();
    faults.depth({ snapshotStatus: 429 }); // the resync's snapshots refused for a while
    faults.skipDepthUpdates(1);
    await phase();
    faults.depth({ snapshotStatus: 0, snapshotStaleEvents: 5 }); // older than the buffered diffs
    faults.skipDepthUpdates(1, "ETHUSDT");
    await phase();
    faults.depth({ snapshotStaleEvents: 0, snapshotDelayMs: 700 }); // a slow snapshot
    faults.skipDepthUpdates(3, "BTCUSDT");
    await phase();
    faults.depth({ snapshotDelayMs: 0 });
    await waitUntil(synced, 15_000, "both books synced again after the faults", {
      detail: () =>
        live
          .logs()
          .split("\n")
          .filter((l) => /book|snapshot/.test(l))
          .slice(-15)
          .join("\n"),
    });
    await phase();
    faults.pause(true);
    const toUs = sim.nowMs() * 1000;
    await Bun.sleep(700); // the last rows flushed into files

    // Every diff event the simulator dropped lies inside a ledgered resync.
    const truth = sim.groundTruth();
    let dropped = 0;
    for (const s of SYMBOLS) {
      const gaps = (await gapsOf(live.url, s)).filter((g: Gap) => g.table === "book_deltas");
      expect(gaps.every((g) => g.cause === "book_resync")).toBe(true);
      for (const [U, u] of truth.symbols[s]!.book!.droppedDiffs["100ms"]) {
        dropped++;
        expect(gaps.some((g) => g.from_id <= U && u <= g.to_id)).toBe(true);
      }
    }
    expect(dropped).toBeGreaterThanOrEqual(7);

    // The books at random instants equal the truth, except inside ledgered resyncs.
    let equal = 0;
    let notSynced = 0;
    const rnd = mulberry32(o.seed); // seeded: the same instants every run
    for (let i = 0; i < o.instants; i++) {
      const s = SYMBOLS[i % SYMBOLS.length]!;
      const at = Math.floor(fromUs + rnd() * (toUs - fromUs));
      const got = await answer(live, s, at);
      if (got.state === "not_synced") {
        notSynced++;
        continue;
      }
      expect(got.state).toBe("synced");
      const want = sim.bookAt(s, { publishedUs: at }) as TrueBook;
      expect({
        at,
        base: got.base,
        u: got.update_id,
        bids: levelsText(got.bids),
        asks: levelsText(got.asks),
      }).toEqual({
        at,
        base: got.base,
        u: want.updateId,
        bids: text(want.bids),
        asks: text(want.asks),
      });
      equal++;
    }
    // The faults cost some instants; most stayed exact.
    expect(equal).toBeGreaterThan(o.instants / 2);

    // Snapshots at an interval, computed from the deltas in one pass, equal the truth too.
    let series = 0;
    for (const s of SYMBOLS) {
      const q = `symbol=${s}&start=${iso(fromUs)}&end=${iso(toUs)}&interval=250&levels=10`;
      const r = await fetch(`${live.url}/v1/book/snapshots?${q}`);
      expect(r.status).toBe(200);
      const body = (await r.json()) as { snapshots: (BookAnswer & { time_us: number })[] };
      expect(body.snapshots.length).toBe(Math.floor((toUs - fromUs) / 250_000) + 1);
      for (const snap of body.snapshots) {
        if (snap.state !== "synced") continue;
        const want = sim.bookAt(s, { publishedUs: snap.time_us }, 10) as TrueBook;
        expect({ t: snap.time_us, bids: levelsText(snap.bids), asks: levelsText(snap.asks) }).toEqual({
          t: snap.time_us,
          bids: text(want.bids),
          asks: text(want.asks),
        });
        series++;
      }
    }
    expect(series).toBeGreaterThan(0);
    await seriesAsParquet(
      live,
      `symbol=${SYMBOLS[0]}&start=${iso(fromUs)}&end=${iso(toUs)}&interval=250&levels=10`,
    );

    // K2's own bookTicker rows agree with its rebuilt books: where a stored quote's update id ends
    // a stored diff event, the book at that event's time has the quote's best bid and ask.
    const tickers = await tickersAgainstBooks(live, Math.max(20, o.instants / 5));
    expect(tickers).toBeGreaterThanOrEqual(10);

    // The live top of each book is the true top at its update id (what bookTicker carries).
    for (const s of SYMBOLS) {
      const got = await answer(live, s);
      const want = sim.bookAt(s, { updateId: got.update_id }, 1) as TrueBook;
      expect(`${levelsText(got.bids.slice(0, 1))} | ${levelsText(got.asks.slice(0, 1))}`).toBe(
        `${text(want.bids)} | ${text(want.asks)}`,
      );
    }
    expect((await k2.stop()).code).toBe(0);
    return { equal, notSynced, dropped, series, tickers };
  } finally {
    k2?.cleanup();
    await sim?.stop();
  }
}
