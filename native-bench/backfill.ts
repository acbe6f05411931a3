/**
 * Backfill throughput (issue 17 part 7): local archive zips → visible Parquet through the whole
 * `k2 backfill` path (src/backfill: CHECKSUM, SHA-256, native inflate, CSV parse, stored-id check,
 * staged ZSTD Parquet through the writer pool, commit by rename, landed journal). The zips
 * (Binance trades layout, days on both sides of the 2025-01-01 ms → µs switch) are generated into
 * a temp dir in the archive's layout and read from it as a `file://` archive root (a local copy
 * of the archive); `--http` serves them over 127.0.0.1 instead (Bun.file responses: sendfile).
 *
 * Baseline in the same run, on the same rows: DuckDB `read_csv` of the unzipped CSV files →
 * `COPY … TO parquet (COMPRESSION zstd)`, with `SET threads` = the threads K2 uses (the main
 * thread + one stage worker per concurrent file, which inflates, parses and encodes). DuckDB is
 * handed plain CSV: no checksum, no unzip — work K2 does and it does not (issue 17's target).
 * A second baseline hands DuckDB the same CSV gzipped at deflate level 6 (the zips' level), so
 * it inflates the same stream K2 does: work for work.
 *
 * Bun's allocator (mimalloc) setting is printed: `bun run backfill` (what users run) and
 * `make bench-backfill` start through scripts/batch-alloc.sh (MIMALLOC_PURGE_DELAY=-1); a bare run measures Bun's
 * default (freed pages returned after 100 ms and faulted in again: ~1.6× slower, README).
 *
 *   bun native-bench/backfill.ts [--rows 4000000] [--files 4] [--concurrency 2] [--rounds 2] [--http]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  type ArchiveFile,
  archiveChecksumPath,
  archiveCsvName,
  archiveZipPath,
} from "../src/archive/index.ts";
import { daysBetween, planJobs, runBackfill } from "../src/backfill/index.ts";
import { tradesCsv, zipOne } from "./archive-data.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "4000000" },
    files: { type: "string", default: "4" },
    concurrency: { type: "string", default: "2" },
    rounds: { type: "string", default: "2" },
    http: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: bun native-bench/backfill.ts [--rows N] [--files N] [--concurrency N] [--rounds N] [--http]",
  );
  process.exit(0);
}
const FILES = Number(args.files);
const PER_FILE = Math.floor(Number(args.rows) / FILES);
const ROWS = PER_FILE * FILES;
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = Number(args.rounds);
const THREADS = CONCURRENCY + 1;
const DATES = daysBetween("2024-12-30", new Date(Date.UTC(2024, 11, 29 + FILES)).toISOString().slice(0, 10));

const dir = mkdtempSync(join(tmpdir(), "k2-backfill-bench-"));
const served = new Map<string, string>();
const csvPaths: string[] = [];
/** The same CSV gzipped (deflate level 6, like the zips): the second baseline, work for work. */
const gzPaths: string[] = [];
let zipBytes = 0;
let csvBytes = 0;
for (const [i, date] of DATES.entries()) {
  const f: ArchiveFile = { dataset: "trades", period: "daily", symbol: "BTCUSDT", date };
  const csv = new TextEncoder().encode(tradesCsv(date, 1 + i * PER_FILE, PER_FILE));
  const zip = zipOne(archiveCsvName(f), csv);
  const zipPath = join(dir, "archive", archiveZipPath(f));
  const sumPath = join(dir, "archive", archiveChecksumPath(f));
  const csvPath = join(dir, `${i}.csv`);
  mkdirSync(dirname(zipPath), { recursive: true });
  writeFileSync(zipPath, zip);
  writeFileSync(
    sumPath,
    `${new Bun.CryptoHasher("sha256").update(zip).digest("hex")}  ${archiveZipPath(f).split("/").at(-1)}\n`,
  );
  writeFileSync(csvPath, csv);
  writeFileSync(`${csvPath}.gz`, gzipSync(csv, { level: 6 }));
  gzPaths.push(`${csvPath}.gz`);
  served.set(archiveZipPath(f), zipPath);
  served.set(archiveChecksumPath(f), sumPath);
  csvPaths.push(csvPath);
  zipBytes += zip.length;
  csvBytes += csv.length;
}
// The generator's garbage (hundreds of MB of strings) is collected before either engine is
// timed: left, its collection ran during the rounds and slowed both by up to 1.5× (2026-12-04).
Bun.gc(true);
const server = args.http
  ? Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const p = served.get(new URL(req.url).pathname.slice(1));
        return p ? new Response(Bun.file(p)) : new Response("not found", { status: 404 });
      },
    })
  : undefined;
const archiveRoot = server ? `http://127.0.0.1:${server.port}` : `file://${join(dir, "archive")}`;
console.log(
  `${FILES} zips, ${ROWS.toLocaleString("en-US")} trade rows (${DATES.join(", ")}), ${(zipBytes / 1e6).toFixed(0)} MB zipped, ${(csvBytes / 1e6).toFixed(0)} MB CSV; K2 --concurrency ${CONCURRENCY} (${THREADS} threads) from ${args.http ? "127.0.0.1 over HTTP" : "local files"}, DuckDB threads=${THREADS}; MIMALLOC_PURGE_DELAY=${process.env.MIMALLOC_PURGE_DELAY ?? "unset (100 ms)"}`,
);

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(12);

async function k2Round(out: string): Promise<number> {
  const t0 = performance.now();
  const s = await runBackfill({
    dataDir: out,
    archiveUrl: archiveRoot,
    jobs: planJobs(["BTCUSDT"], ["trades"], DATES[0]!, DATES.at(-1)!),
    concurrency: CONCURRENCY,
  });
  const sec = (performance.now() - t0) / 1000;
  if (s.failed > 0 || s.written !== ROWS)
    throw new Error(
      `backfill: ${s.failed} failed, ${s.written} rows written, expected ${ROWS}: ${s.outcomes.find((o) => o.error)?.error?.message}`,
    );
  return ROWS / sec;
}

const duck = await DuckDBInstance.create(":memory:", { threads: String(THREADS) });
const con = await duck.connect();
async function count(glob: string): Promise<number> {
  const r = await con.runAndReadAll(
    `SELECT count(*)::BIGINT, count(DISTINCT trade_id)::BIGINT FROM read_parquet('${glob}')`,
  );
  const [n, d] = r.getRows()[0]!.map(Number);
  if (n !== d) throw new Error(`${glob}: ${n} rows, ${d} distinct ids`);
  return n!;
}
async function duckRound(out: string, paths: readonly string[]): Promise<number> {
  const list = paths.map((p) => `'${p}'`).join(",");
  const t0 = performance.now();
  await con.run(
    `COPY (SELECT * FROM read_csv([${list}], header = false, columns = {'id': 'BIGINT', 'price': 'DECIMAL(18,8)', 'qty': 'DECIMAL(18,8)', 'quote': 'DECIMAL(18,8)', 'time': 'BIGINT', 'm': 'BOOLEAN', 'best': 'BOOLEAN'}))
     TO '${out}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  return ROWS / ((performance.now() - t0) / 1000);
}

try {
  await con.run(`SET threads = ${THREADS}`);
  const k2Rates: number[] = [];
  const duckRates: number[] = [];
  const gzRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const out = join(dir, `k2-${r}`);
    k2Rates.push(await k2Round(out));
    if ((await count(join(out, "trades", "*", "*", "*.parquet"))) !== ROWS)
      throw new Error("K2: row count differs");
    rmSync(out, { recursive: true, force: true });
    const dout = join(dir, `duck-${r}.parquet`);
    duckRates.push(await duckRound(dout, csvPaths));
    rmSync(dout, { force: true });
    gzRates.push(await duckRound(dout, gzPaths));
    rmSync(dout, { force: true });
    console.log(
      `round ${r + 1}: K2 backfill ${fmt(k2Rates[r]!)} rows/s, DuckDB read_csv → COPY parquet zstd ${fmt(duckRates[r]!)} rows/s (CSV), ${fmt(gzRates[r]!)} rows/s (CSV.gz)`,
    );
  }
  const k2Best = Math.max(...k2Rates);
  const duckBest = Math.max(...duckRates);
  const gzBest = Math.max(...gzRates);
  console.log(`K2 backfill → visible Parquet (best)            ${fmt(k2Best)} rows/s (target ≥ 1,000,000)`);
  console.log(`DuckDB read_csv → COPY parquet zstd (best)      ${fmt(duckBest)} rows/s`);
  console.log(`DuckDB, the same CSV gzipped (best)             ${fmt(gzBest)} rows/s`);
  console.log(`ratio K2 / DuckDB: ${(k2Best / duckBest).toFixed(2)}× (target ≥ 1×)`);
  // Work for work: DuckDB inflating the same deflate stream K2 inflates (not the target).
  console.log(`ratio K2 / DuckDB on CSV.gz: ${(k2Best / gzBest).toFixed(2)}×`);
} finally {
  con.closeSync();
  duck.closeSync();
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
}
