/**
 * Order-book rows through K2's real storage path, exactly once. Phase 1 is a run that dies before
 * any file is cut: rows go through the live entry (Ingest.onBookRows) into the real WAL and ring,
 * and nothing drains the ring. Phase 2 is the real pipeline (buildPipeline, the embedded simulator
 * on loopback) on that data dir: WAL replay brings phase 1's rows back, the capture re-delivers
 * every row (a duplicate delivery) and adds the rest through `Pipeline.bookRows`. Then the files
 * are read by DuckDB and hyparquet, and /v1/book/deltas is paged through and compared with DuckDB.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { parquetReadObjects } from "hyparquet";
import pino from "pino";
import { loadConfig } from "../../src/config/index.ts";
import { SymbolLookup } from "../../src/decode/binance/index.ts";
import { createApp } from "../../src/http/app.ts";
import { v1Routes } from "../../src/http/routes/v1.ts";
import { GapLedger } from "../../src/ingest/gap-ledger.ts";
import { BookCommit, Ingest } from "../../src/ingest/ingest.ts";
import { Sequencer } from "../../src/ingest/sequencer.ts";
import { BOOK_TABLE_NAMES, SymbolTable, TABLE_COLUMNS } from "../../src/model/index.ts";
import { Registry } from "../../src/obs/metrics.ts";
import { buildPipeline, type Pipeline } from "../../src/pipeline/index.ts";
import { Readiness } from "../../src/resilience/readiness.ts";
import { DeadLetterBuffer } from "../../src/ring/dead-letter.ts";
import { Ring } from "../../src/ring/ring.ts";
import { WalWriter } from "../../src/sink/wal/index.ts";
import { type BookCall, bookFixture, MIDNIGHT_US } from "./book-fixture.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
/** hyparquet reads ZSTD pages with what it is given: Bun's own zstd. */
const ZSTD = { ZSTD: (input: Uint8Array) => Bun.zstdDecompressSync(input) };
let dir: string | undefined;
let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Phase 1: the live entry into a real WAL and ring; nothing drains the ring, no file is cut. */
async function crashedRun(dataDir: string, calls: readonly BookCall[]) {
  const symbols = new SymbolTable(SYMBOLS);
  const wal = WalWriter.open({ dir: join(dataDir, "wal"), flushIntervalMs: 0 });
  const sequencer = new Sequencer();
  const ledger = new GapLedger();
  const gaps: unknown[] = [];
  const ingest = new Ingest({
    ring: new Ring(1024),
    lookup: new SymbolLookup(symbols),
    symbols,
    sequencer,
    ledger,
    deadLetters: new DeadLetterBuffer({ maxEntries: 10 }),
    wal,
    onGap: (g) => gaps.push(g),
    onServerShutdown: () => {},
    gapMaxIds: 1000,
    nowUs: () => Date.now() * 1000,
  });
  const statuses = calls.map((c) => ingest.onBookRows(c.rows, 0, c.count));
  // The same event delivered twice (a reconnect overlap): nothing new.
  const again = ingest.onBookRows(calls[0]!.rows, 0, calls[0]!.count);
  await wal.close();
  return { statuses, again, gaps: gaps.length, ledger: ledger.entries().length, seqGaps: sequencer.gaps };
}

async function duck<T>(fn: (sql: (q: string) => Promise<Record<string, unknown>[]>) => Promise<T>) {
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const conn = await db.connect();
  try {
    return await fn(async (q) => (await conn.runAndReadAll(q)).getRowObjectsJS());
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Every stored column as the fixture writes it: decimals as text, times as epoch µs. */
function selectStored(table: string): string {
  return TABLE_COLUMNS[table as "book_deltas"]
    .map((c) =>
      c.type === "decimal"
        ? `CAST(${c.name} AS VARCHAR) AS ${c.name}`
        : c.type === "timestamp_us"
          ? `epoch_us(${c.name}) AS ${c.name}`
          : c.name,
    )
    .join(", ");
}

const plain = (r: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]));

test("book rows: live entry → WAL → crash → replay → Parquet, each row once and exact; /v1/book/deltas pages them", async () => {
  dir = mkdtempSync(join(tmpdir(), "k2-book-"));
  const fx = bookFixture(SYMBOLS);
  const half = Math.floor(fx.calls.length / 2);
  const first = await crashedRun(dir, fx.calls.slice(0, half));
  expect(first.statuses.every((s) => s === BookCommit.OK)).toBe(true);
  expect(first.again).toBe(BookCommit.DUPLICATE);
  // Book ids skip by 2^14 per update id: no gap, no ledger entry, no repair.
  expect([first.gaps, first.ledger, first.seqGaps]).toEqual([0, 0, 0]);
  for (const t of BOOK_TABLE_NAMES) expect(existsSync(join(dir, t))).toBe(false); // only the WAL has them

  const cfg = loadConfig([], {
    K2_SOURCE: "sim",
    K2_DATA_DIR: dir,
    K2_SYMBOLS: SYMBOLS.join(","),
    K2_STREAMS: "trade",
    K2_SIM_RATE: "5",
    K2_FLUSH_INTERVAL_MS: "50",
    K2_LOG_LEVEL: "silent",
  });
  if (cfg.kind !== "config") throw new Error("config expected");
  pipeline = await buildPipeline(cfg.config, pino({ level: process.env.BOOK_TEST_LOG ?? "silent" }));
  const p = pipeline;
  // Everything again (phase 1's rows are back from the WAL: all duplicates), then the rest.
  const statuses = fx.calls.map((c) => p.bookRows(c.rows, 0, c.count));
  expect(statuses.slice(0, half).every((s) => s === BookCommit.DUPLICATE)).toBe(true);
  expect(statuses.slice(half).every((s) => s === BookCommit.OK)).toBe(true);
  expect(p.bookRows(fx.calls.at(-1)!.rows, 0, fx.calls.at(-1)!.count)).toBe(BookCommit.DUPLICATE);
  await p.stopIngest(); // every accepted row into files

  // DuckDB over the Hive tree: each row once, every column as the contract stores it.
  const d = dir;
  await duck(async (sql) => {
    for (const t of BOOK_TABLE_NAMES) {
      const glob = join(d, t, "*", "*", "*.parquet");
      const idCol = TABLE_COLUMNS[t][2]!.name;
      for (const sym of SYMBOLS) {
        const got = (
          await sql(
            `SELECT ${selectStored(t)} FROM read_parquet('${glob}', hive_partitioning = false) WHERE symbol = '${sym}' ORDER BY ${idCol}`,
          )
        ).map(plain);
        expect(got).toEqual(fx.expected.get(`${t}:${sym}`)!);
      }
      // Partitioned by the UTC day of event_time_us (snapshots, checkpoints: the instant).
      const timeCol = { book_deltas: "event_time_us", book_snapshots: "snapshot_time_us" }[t as string];
      const parts = await sql(
        `SELECT CAST(date AS VARCHAR) AS date, min(epoch_us(${timeCol ?? "checkpoint_time_us"})) AS lo,
           max(epoch_us(${timeCol ?? "checkpoint_time_us"})) AS hi
         FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY date ORDER BY date`,
      );
      const day = (us: unknown) => new Date(Number(us) / 1000).toISOString().slice(0, 10);
      for (const r of parts) expect([day(r.lo), day(r.hi)]).toEqual([String(r.date), String(r.date)]);
      if (t === "book_deltas") expect(parts.map((r) => String(r.date))).toEqual(["2026-01-05", "2026-01-06"]);
    }
  });

  // hyparquet, file by file: the text and boolean columns derived from the flag byte.
  for (const t of BOOK_TABLE_NAMES) {
    const rows: Record<string, unknown>[] = [];
    for (const date of readdirSync(join(d, t)))
      for (const sym of readdirSync(join(d, t, date)))
        for (const f of readdirSync(join(d, t, date, sym))) {
          const b = readFileSync(join(d, t, date, sym, f));
          rows.push(
            ...(await parquetReadObjects({
              file: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer,
              compressors: ZSTD,
            })),
          );
        }
    const idCol = TABLE_COLUMNS[t][2]!.name;
    const key = (r: Record<string, unknown>) => `${r.symbol}:${r[idCol]}`;
    rows.sort((a, b) => key(a).localeCompare(key(b)));
    const want = SYMBOLS.flatMap((s) => fx.expected.get(`${t}:${s}`)!).sort((a, b) =>
      key(a).localeCompare(key(b)),
    );
    expect(rows.length).toBe(want.length);
    const flagCols = ["side", "is_snapshot", "is_verified", "level_state"].filter((c) => c in want[0]!);
    const pick = (r: Record<string, unknown>) => [key(r), ...flagCols.map((c) => r[c])];
    expect(rows.map(pick)).toEqual(want.map(pick));
  }

  // /v1/book/deltas: 7 rows a page, followed by cursor, equals DuckDB over the files.
  const app = createApp({
    registry: new Registry(),
    readiness: new Readiness(),
    logger: pino({ level: "silent" }),
    version: "test",
  }).use(
    v1Routes({
      engine: p.engine,
      registry: new Registry(),
      options: { rateLimitBurst: 1_000_000, rateLimitPerSec: 1_000_000 },
    }),
  );
  for (const sym of SYMBOLS) {
    const paged: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 40; pages++) {
      const q = new URLSearchParams({
        symbol: sym.toLowerCase(),
        start: String((MIDNIGHT_US - 2_000_000) / 1000),
        end: String((MIDNIGHT_US + 2_000_000) / 1000),
        limit: "7",
      });
      if (cursor) q.set("cursor", cursor);
      const res = await app.handle(new Request(`http://k2.test/v1/book/deltas?${q}`));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: Record<string, unknown>[]; next_cursor: string | null };
      paged.push(...body.data);
      cursor = body.next_cursor;
      if (cursor === null) break;
    }
    expect(cursor).toBeNull();
    const want = fx.expected.get(`book_deltas:${sym}`)!;
    expect(paged.length).toBe(want.length);
    expect(paged.map((r) => r.delta_id)).toEqual(want.map((r) => r.delta_id));
    await duck(async (sql) => {
      const files = join(d, "book_deltas", "*", "*", "*.parquet");
      const ref = (
        await sql(
          `SELECT ${selectStored("book_deltas")} FROM read_parquet('${files}', hive_partitioning = false) WHERE symbol = '${sym}' ORDER BY delta_id`,
        )
      ).map(plain);
      // JSON adds an `<time>_iso` text beside each µs time: the same instant, checked by the API tests.
      const stored = (r: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(r).filter(([k]) => !k.endsWith("_iso")));
      expect(paged.map(stored)).toEqual(ref);
    });
  }
  // The other formats of the same rows: CSV (header = stored columns) and Parquet (read by hyparquet).
  const want = fx.expected.get("book_deltas:ETHUSDT")!;
  const csv = await (
    await app.handle(new Request("http://k2.test/v1/book/deltas?symbol=ETHUSDT&limit=10000&format=csv"))
  ).text();
  const lines = csv.trimEnd().split(/\r?\n/);
  expect(lines[0]!.split(",").filter((c) => !c.endsWith("_iso"))).toEqual(
    TABLE_COLUMNS.book_deltas.map((c) => c.name),
  );
  expect(lines.length - 1).toBe(want.length);
  const pq = await app.handle(
    new Request("http://k2.test/v1/book/deltas?symbol=ETHUSDT&limit=10000&format=parquet"),
  );
  const pqRows = await parquetReadObjects({ file: await pq.arrayBuffer(), compressors: ZSTD });
  expect(pqRows.map((r) => [Number(r.delta_id), r.side, r.is_snapshot])).toEqual(
    want.map((r) => [r.delta_id, r.side, r.is_snapshot]),
  );
  const gaps = await app.handle(new Request("http://k2.test/v1/gaps"));
  const g = (await gaps.json()) as { data: { table: string }[] };
  expect(g.data.filter((e) => e.table.startsWith("book_"))).toEqual([]);
}, 60_000);
