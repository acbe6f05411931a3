/**
 * Put one archive day of the simulator into a data dir as K2's own Parquet files (the rows as the
 * archive has them, split into `files` files by id), so a certificate has a stored day to compare
 * with the archive. A test fixture, not a backfill: it writes through the sink's writeJob, the
 * same encoder K2's writer uses.
 */
import { readArchiveFile } from "../../src/archive/index.ts";
import { allocRowColumns } from "../../src/model/row.ts";
import { appendRange, createBatch, nodeParquetFs, writeJob } from "../../src/sink/parquet/index.ts";

export async function storeArchiveDay(
  archiveRoot: string,
  dataDir: string,
  table: "trades" | "agg_trades",
  symbol: string,
  date: string,
  capacity: number,
  files = 3,
): Promise<{ rows: number; paths: string[] }> {
  const rows = allocRowColumns(capacity);
  let n = 0;
  await readArchiveFile(
    { dataset: table === "trades" ? "trades" : "aggTrades", period: "daily", symbol, date },
    {
      dataset: table === "trades" ? "trades" : "aggTrades",
      rows,
      flush: (count) => {
        n = count; // one batch: capacity holds the whole day
      },
    },
    0,
    1,
    { root: archiveRoot },
  );
  const paths: string[] = [];
  const per = Math.ceil(n / files);
  for (let from = 0, seq = 0; from < n; from += per, seq++) {
    const count = Math.min(per, n - from);
    const b = createBatch({ table, symbol, symbolId: 0, day: date }, count);
    if (appendRange(b, rows, from, count) !== count)
      throw new Error("archive rows do not fit the day's batch");
    const info = writeJob(
      nodeParquetFs,
      {
        dataDir,
        table,
        exchange: "BINANCE",
        symbol,
        date,
        rows: count,
        columns: b.columns,
        writtenAtMs: 1,
        seq,
      },
      {},
    );
    paths.push(info.path);
  }
  return { rows: n, paths };
}
