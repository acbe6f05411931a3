/**
 * Archive read throughput: local Binance-archive zip files (trades CSV, no header, generated into
 * a temp dir at bench time, half dated before 2025-01-01 in ms and half after in µs) → rows in
 * K2's row layout, through the same path a backfill uses: SHA-256 of the file (Bun.CryptoHasher),
 * streaming native inflate checked to its CRC-32 (src/archive/zip.ts), CSV parse (csv.ts).
 * Standalone (not a harness suite): it times whole files, not one synchronous op.
 *
 * Baselines in the same run, on the same files:
 * - `native inflate only`: node:zlib's inflateRawSync of the same deflate data, whole file at
 *   once (the floor under the parser);
 * - `fflate inflate only`: fflate's streaming JavaScript unzip, what K2 used before native inflate;
 * - `naive`: TextDecoder + split("\n") + split(",") + model parseDecimal (the test's reference);
 * - `DuckDB read_csv`: the unzipped CSVs materialised by DuckDB's native reader into a table,
 *   threads = 1 like K2's one-thread read (DuckDB reads plain CSV here; it is not handed the zips).
 * Issue 17's speed target (≥ 1 M rows/s and ≥ 1× DuckDB's read_csv → COPY … TO parquet, ZSTD,
 * same thread count) is about backfill into visible Parquet; that bench comes with the backfill
 * wiring. This one measures the read half.
 *
 *   bun native-bench/archive-read.ts [--rows 2000000] [--files 4] [--rounds 3]
 */
import { memoryUsage } from "bun:jsc";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { inflateRawSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { Unzip, UnzipInflate, unzipSync, zipSync } from "fflate";
import { ArchiveCsvParser, type ArchiveFile, archiveCsvName, readArchiveZip } from "../src/archive/index.ts";
import { allocRowColumns, parseDecimal } from "../src/model/index.ts";
import { tradesCsv } from "./archive-data.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "2000000" },
    files: { type: "string", default: "4" },
    rounds: { type: "string", default: "3" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log("usage: bun native-bench/archive-read.ts [--rows N] [--files N] [--rounds N]");
  process.exit(0);
}
const ROWS = Number(args.rows);
const FILES = Number(args.files);
const ROUNDS = Number(args.rounds);
const DATES = ["2024-12-30", "2024-12-31", "2025-01-01", "2025-01-02"];

const dir = mkdtempSync(join(tmpdir(), "k2-archive-bench-"));
const files: Array<{ file: ArchiveFile; path: string; csvPath: string; rows: number }> = [];
const perFile = Math.floor(ROWS / FILES);
for (let f = 0; f < FILES; f++) {
  const date = DATES[f % DATES.length]!;
  const file: ArchiveFile = { dataset: "trades", period: "daily", symbol: `BTCUSDT`, date };
  const csv = new TextEncoder().encode(tradesCsv(date, 1 + f * perFile, perFile));
  const path = join(dir, `${f}-${archiveCsvName(file).replace(".csv", ".zip")}`);
  writeFileSync(path, zipSync({ [archiveCsvName(file)]: csv }, { level: 6 }));
  const csvPath = join(dir, `${f}.csv`);
  writeFileSync(csvPath, csv);
  files.push({ file, path, csvPath, rows: perFile });
}
const totalRows = perFile * FILES;
console.log(
  `${FILES} zip files, ${totalRows.toLocaleString("en-US")} trade rows (${DATES.slice(0, FILES).join(", ")}) in ${dir}`,
);

const rows = allocRowColumns(65_536);
let sink = 0;

async function k2(): Promise<number> {
  let n = 0;
  for (const f of files) {
    const zip = new Uint8Array(readFileSync(f.path));
    new Bun.CryptoHasher("sha256").update(zip).digest("hex");
    const flush = (c: number) => {
      sink += rows.id[c - 1]!;
    };
    n += (await readArchiveZip(zip, f.file, { dataset: "trades", rows, flush }, 0, 0)).rows;
  }
  return n;
}

function inflateOnly(): number {
  let bytes = 0;
  for (const f of files) {
    const zip = new Uint8Array(readFileSync(f.path));
    const u = new Unzip((file) => {
      file.ondata = (_e, d) => (bytes += d.length);
      file.start();
    });
    u.register(UnzipInflate);
    u.push(zip, true);
  }
  sink += bytes;
  return totalRows;
}

/** The deflate data of a one-file zip written by zipSync (local header at 0, sizes in it). */
function nativeInflate(): number {
  let bytes = 0;
  for (const f of files) {
    const zip = new Uint8Array(readFileSync(f.path));
    const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const start = 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
    bytes += inflateRawSync(zip.subarray(start, start + dv.getUint32(18, true))).length;
  }
  sink += bytes;
  return totalRows;
}

function naive(): number {
  let n = 0;
  const price = new BigInt64Array(1);
  for (const f of files) {
    const zip = new Uint8Array(readFileSync(f.path));
    const text = new TextDecoder().decode(unzipSync(zip)[archiveCsvName(f.file)]);
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const c = line.split(",");
      price[0] = parseDecimal(c[1]!)!;
      parseDecimal(c[2]!);
      sink += Number(c[0]) + Number(c[4]);
      n++;
    }
  }
  return n;
}

/**
 * The CSV parser alone over already inflated bytes, pushed in 1 MiB chunks: rows/s and the
 * allocator's growth over the whole pass without a collection (harness.ts "full-round B"), per row.
 */
function parseOnly(): { rate: number; bytesPerRow: number } {
  const csvs = files.map((f) => new Uint8Array(readFileSync(f.csvPath)));
  let best = 0;
  let grown = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    Bun.gc(true);
    const before = memoryUsage().current;
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < files.length; i++) {
      const p = new ArchiveCsvParser(
        { dataset: "trades", rows, flush: (c) => (sink += c) },
        0,
        0,
        "bench.csv",
      );
      const b = csvs[i]!;
      for (let off = 0; off < b.length; off += 1 << 20) p.push(b.subarray(off, off + (1 << 20)));
      p.end();
      n += p.rowsParsed;
    }
    best = Math.max(best, n / ((performance.now() - t0) / 1000));
    grown = Math.min(grown, Math.max(0, memoryUsage().current - before));
  }
  return { rate: best, bytesPerRow: grown / totalRows };
}

async function time(name: string, fn: () => number | Promise<number>): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    Bun.gc(true);
    const t0 = performance.now();
    const n = await fn();
    const s = (performance.now() - t0) / 1000;
    if (n !== totalRows) throw new Error(`${name}: ${n} rows, expected ${totalRows}`);
    rates.push(n / s);
  }
  const best = Math.max(...rates);
  const med = rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
  console.log(
    `${name.padEnd(44)} ${Math.round(best).toLocaleString("en-US").padStart(12)} rows/s (median ${Math.round(med).toLocaleString("en-US")})`,
  );
  return best;
}

const duck = await DuckDBInstance.create(":memory:", { threads: "1" });
const con = await duck.connect();
const csvList = files.map((f) => `'${f.csvPath}'`).join(",");
async function duckRead(): Promise<number> {
  await con.run("DROP TABLE IF EXISTS t");
  await con.run(
    `CREATE TABLE t AS SELECT * FROM read_csv([${csvList}], header = false, columns = {'id': 'BIGINT', 'price': 'DECIMAL(18,8)', 'qty': 'DECIMAL(18,8)', 'quote': 'DECIMAL(18,8)', 'time': 'BIGINT', 'm': 'BOOLEAN', 'best': 'BOOLEAN'})`,
  );
  const r = await con.runAndReadAll("SELECT count(*)::INTEGER FROM t");
  return r.getRows()[0]![0] as number;
}

try {
  const subject = await time("K2 archive read (sha256 + unzip + CSV)", k2);
  const parse = parseOnly();
  console.log(
    `${"K2 CSV parse only (inflated bytes)".padEnd(44)} ${Math.round(parse.rate).toLocaleString("en-US").padStart(12)} rows/s, ${parse.bytesPerRow.toFixed(2)} B/row grown over a pass`,
  );
  const floor = await time("baseline: native inflate only (node:zlib)", nativeInflate);
  const fflate = await time("baseline: fflate inflate only", inflateOnly);
  const naiveRate = await time("baseline: naive split + parseDecimal", naive);
  const duckRate = await time("baseline: DuckDB read_csv, 1 thread (no zip)", duckRead);
  console.log(
    `ratios: K2 / naive ${(subject / naiveRate).toFixed(2)}×, K2 / DuckDB read_csv ${(subject / duckRate).toFixed(2)}×, K2 / native inflate ${(subject / floor).toFixed(2)}×, K2 / fflate inflate ${(subject / fflate).toFixed(2)}×`,
  );
} finally {
  con.closeSync();
  duck.closeSync();
  rmSync(dir, { recursive: true, force: true });
  if (sink === 0.5) console.log(sink);
}
