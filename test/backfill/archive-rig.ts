/**
 * Test rig for `k2 backfill`: what the archive holds (the zips' CSV text, read with fflate and
 * split by hand, not with K2's parser) and what K2 stored (read with DuckDB straight from the
 * Hive tree), both as comparable lines `id,price,qty,time_us,isBuyerMaker[,first,last]`; plus a
 * tiny archive server on 127.0.0.1 for files the simulator does not serve.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { unzipSync, zipSync } from "fflate";
import { type ArchiveFile, archiveBaseName, archiveUrl, archiveZipPath } from "../../src/archive/index.ts";
import { BACKFILL_DATASET, type BackfillTable } from "../../src/backfill/index.ts";
import { visibleFilePaths } from "../../src/catalog/index.ts";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { ROOT } from "../support/k2-process.ts";

/** One archive CSV line → the comparable line (µs time whatever the file's unit). */
function archiveLine(dataset: ArchiveFile["dataset"], line: string): string {
  const f = line.split(",");
  const us = (t: string) => (t.length <= 13 ? BigInt(t) * 1000n : BigInt(t)).toString();
  if (dataset === "trades") return `${f[0]},${f[1]},${f[2]},${us(f[4]!)},${f[5]}`;
  return `${f[0]},${f[1]},${f[2]},${us(f[5]!)},${f[6]},${f[3]},${f[4]}`;
}

/** The archive file's rows as comparable lines, from its zip fetched over HTTP. */
export async function archiveLines(root: string, f: ArchiveFile): Promise<string[]> {
  const res = await fetch(archiveUrl(root, archiveZipPath(f)));
  if (res.status !== 200) throw new Error(`${archiveZipPath(f)}: HTTP ${res.status}`);
  const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
  const text = new TextDecoder().decode(files[`${archiveBaseName(f)}.csv`]);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => archiveLine(f.dataset, l));
}

export interface Stored {
  /** Comparable lines in id order. */
  lines: string[];
  rows: number;
  distinct: number;
}

/** DuckDB, opened once per test file (opening it costs more than a query): close it in afterAll. */
let duck: { db: DuckDBInstance; conn: Awaited<ReturnType<DuckDBInstance["connect"]>> } | undefined;

export function closeReader(): void {
  duck?.conn.closeSync();
  duck?.db.closeSync();
  duck = undefined;
}

/** What K2 stores for (table, symbol), read by DuckDB; an empty result when nothing is. */
export async function storedLines(
  dataDir: string,
  table: "trades" | "agg_trades",
  symbol: string,
): Promise<Stored> {
  const dir = join(dataDir, table);
  if (!existsSync(dir)) return { lines: [], rows: 0, distinct: 0 };
  if (!duck) {
    const db = await DuckDBInstance.create(":memory:", { threads: "1" });
    duck = { db, conn: await db.connect() };
  }
  const id = table === "trades" ? "trade_id" : "agg_trade_id";
  const extra = table === "trades" ? "" : ` || ',' || first_trade_id || ',' || last_trade_id`;
  const sql = (
    files: string[],
  ) => `SELECT ${id} || ',' || price::VARCHAR || ',' || quantity::VARCHAR || ',' || epoch_us(trade_time_us)
          || ',' || CASE WHEN is_buyer_maker THEN 'True' ELSE 'False' END${extra} AS line, ${id} AS id
       FROM read_parquet([${files.map((f) => `'${f}'`).join(", ")}], hive_partitioning = true)
       WHERE symbol = '${symbol}' ORDER BY ${id}`;
  const conn = duck.conn;
  // A running K2's compaction may delete a file between the listing and DuckDB's open: list and
  // read again (bounded); any other error (a partial or corrupt file) fails the caller at once.
  const read = async (attempt: number): Promise<Awaited<ReturnType<typeof conn.runAndReadAll>> | null> => {
    // The files K2's own scan calls visible: a glob would also read the sources of a merge that a
    // running K2 has just committed (they stay on disk until unpinned) and count their rows twice.
    const files = await visibleFilePaths(dataDir, { table, symbol });
    if (files.length === 0) return null;
    try {
      return await conn.runAndReadAll(sql(files));
    } catch (e) {
      if (attempt >= 5 || !/Cannot open file .*No such file or directory/.test(String(e))) throw e;
      return read(attempt + 1);
    }
  };
  try {
    const r = await read(1);
    if (r === null) return { lines: [], rows: 0, distinct: 0 };
    const rows = r.getRowObjectsJS();
    const lines = rows.map((x) => String(x.line));
    return { lines, rows: lines.length, distinct: new Set(rows.map((x) => x.id)).size };
  } catch (e) {
    if (/No files found/.test(String(e))) return { lines: [], rows: 0, distinct: 0 };
    throw e;
  }
}

/** Every file under `dir` (relative paths), to show nothing half-written was left. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => p.endsWith(".parquet") || p.endsWith(".partial"))
    .sort();
}

/** A zip holding one CSV named as the archive names it, and its CHECKSUM file's text. */
export function archiveZip(f: ArchiveFile, csv: string): { zip: Uint8Array; checksum: string } {
  const zip = zipSync({ [`${archiveBaseName(f)}.csv`]: new TextEncoder().encode(csv) });
  const sha = new Bun.CryptoHasher("sha256").update(zip).digest("hex");
  return { zip, checksum: `${sha}  ${archiveBaseName(f)}.zip\n` };
}

/** An archive root on 127.0.0.1 serving exactly `files` (path → bytes); anything else 404. */
export function serveArchive(files: Map<string, Uint8Array | string>): { url: string; stop(): void } {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname.replace(/^\/+/, "");
      const body = files.get(path);
      return body === undefined ? new Response("not found", { status: 404 }) : new Response(body);
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

/** The backfill tests' market: two archived days (ms, then µs times) before a slow live one. */
export function startArchiveSim(symbols: string[]): Promise<Simulator> {
  return startSimulator({
    symbols,
    startTimeMs: Date.UTC(2025, 0, 2, 6),
    archiveDays: 2,
    archiveRatePerSec: 0.02,
    ratePerSec: 5,
    startTradeId: 1,
    startAggId: 1,
  });
}

/** `k2 backfill <args>` as its own process (to be SIGKILLed), its stderr collected as it comes. */
export function spawnBackfill(args: readonly string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, "run", "src/main.ts", "backfill", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let err = "";
  const reader = proc.stderr.getReader();
  void (async () => {
    for (;;) {
      const c = await reader.read();
      if (c.done) return;
      err += new TextDecoder().decode(c.value);
    }
  })();
  return { proc, stderr: () => err };
}

/** A fresh data folder for `fn`, removed afterwards. */
export async function withDir(prefix: string, fn: (dataDir: string) => Promise<void>): Promise<void> {
  const d = mkdtempSync(join(tmpdir(), prefix));
  try {
    await fn(d);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** The daily archive file of (table, symbol, date). */
export const dailyFile = (table: BackfillTable, symbol: string, date: string): ArchiveFile => ({
  dataset: BACKFILL_DATASET[table],
  period: "daily",
  symbol,
  date,
});
