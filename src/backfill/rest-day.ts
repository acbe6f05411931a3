/**
 * One (table, symbol, day) from REST into visible Parquet, through the archive backfill's
 * exactly-once path (file.ts has the archive's story; the steps are the same):
 *   1. a day that landed whole — from the archive, or from REST after it was over — is done;
 *   2. the exchange's clock, then the ids K2 already stores for that day (stored.ts), read now;
 *   3. the day's rows from REST (rest-page.ts); rows whose id is stored are dropped, the others
 *      go into staged Parquet files (state.ts) with the live writer's encoder and atomic commit;
 *   4. only when the day was read to its end — or, for a day still open at the source, up to
 *      a minute behind the exchange's clock (rest-page.ts says why) — are the staged files
 *      renamed into the data folder, then the day is noted in landed.jsonl (the owner adopts
 *      its files by that line), `complete` saying which.
 * A day REST cannot give whole (its start no longer served, errors past the retries) fails:
 * what it staged is deleted, nothing of it becomes visible.
 */
import { archiveZipPath } from "../archive/index.ts";
import { allocRowColumns, FLAG_BUYER_MAKER, parseDecimal, Table } from "../model/index.ts";
import type { BatchPool } from "../sink/parquet/index.ts";
import {
  AppendStatus,
  appendRow,
  dayOfDate,
  type FileInfo,
  type TableBatch,
  US_PER_DAY,
} from "../sink/parquet/index.ts";
import type { BinanceRest } from "../source/binance/rest.ts";
import type { FileOutcome } from "./file.ts";
import { type BackfillJob, jobLabel, monthlyFileOf } from "./plan.ts";
import { RestDayError, type RestRow, readRestDay, sourceNowUs } from "./rest-page.ts";
import type { BackfillState } from "./state.ts";
import { storedIdsNearDay } from "./stored.ts";

export interface RestDayContext {
  readonly rest: BinanceRest;
  readonly state: BackfillState;
  readonly batchRows: number;
  readonly batches: BatchPool;
  /** Encode and commit one batch as a staged file (stage.ts stagedWriter). */
  write(b: TableBatch): FileInfo;
  readonly onRows?: (n: number) => void;
  readonly onProgress?: (fraction: number) => void;
  readonly retryDelayMs?: (attempt: number) => number;
  /** An open day is read up to this far behind the exchange's clock (rest-page.ts). */
  readonly openDayMarginMs?: number;
}

/** The journal's name for a REST day (archive files are named by their archive path). */
export function restDayPath(job: BackfillJob): string {
  return `rest/${job.table}/${job.symbol}/${job.date}`;
}

/** The comparable text of a row, hashed into the day's sha256 (two reads of a whole day agree). */
function rowText(r: RestRow): string {
  return `${r.id},${r.price},${r.qty},${r.timeUs},${r.buyerMaker}${r.firstId || r.lastId ? `,${r.firstId},${r.lastId}` : ""}\n`;
}

export async function backfillRestDay(job: BackfillJob, ctx: RestDayContext): Promise<FileOutcome> {
  const t0 = performance.now();
  const path = restDayPath(job);
  const base = { job, rows: 0, written: 0, alreadyStored: 0, files: 0 };
  if (
    ctx.state.landedWhole(archiveZipPath(job.file)) ||
    ctx.state.landedWhole(archiveZipPath(monthlyFileOf(job.file))) ||
    ctx.state.landedWhole(path)
  )
    return { ...base, status: "already_landed", source: "rest", ms: performance.now() - t0 };
  const day = dayOfDate(job.date)!;
  const staged: string[] = [];
  let batch: TableBatch | undefined;
  const cut = () => {
    if (batch && batch.rows > 0) staged.push(ctx.write(batch).path);
  };
  const rows = allocRowColumns(1);
  const recvUs = Date.now() * 1000;
  const hash = new Bun.CryptoHasher("sha256");
  let written = 0;
  let alreadyStored = 0;
  const kind = job.table === "trades" ? Table.trades : Table.agg_trades;
  try {
    const retry = ctx.retryDelayMs ? { retryDelayMs: ctx.retryDelayMs } : {};
    // The clock before the stored ids: every row older than its cutoff was stored by then if ever.
    const nowUs = await sourceNowUs(ctx.rest, retry);
    const stored = await storedIdsNearDay(ctx.state.dataDir, job.table, job.symbol, job.date);
    const read = await readRestDay({
      rest: ctx.rest,
      table: job.table,
      symbol: job.symbol,
      dayStartUs: day * US_PER_DAY,
      nowUs,
      ...(ctx.openDayMarginMs === undefined ? {} : { openDayMarginMs: ctx.openDayMarginMs }),
      ...retry,
      ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
      onRow: (r) => {
        hash.update(rowText(r));
        ctx.onRows?.(1);
        if (stored.has(r.id)) {
          alreadyStored++;
          return;
        }
        const price = parseDecimal(r.price);
        const qty = parseDecimal(r.qty);
        if (price === null || qty === null)
          throw new RestDayError(
            `id ${r.id}: price "${r.price}" or quantity "${r.qty}" is not a DECIMAL(18,8)`,
          );
        rows.kind[0] = kind;
        rows.symbol_id[0] = job.symbolId;
        rows.id[0] = r.id;
        rows.first_id[0] = r.firstId;
        rows.last_id[0] = r.lastId;
        // REST has no event time: the trade time stands in, as the archive reader does.
        rows.trade_time_us[0] = r.timeUs;
        rows.event_time_us[0] = r.timeUs;
        rows.recv_time_us[0] = recvUs;
        rows.dec0[0] = price;
        rows.dec1[0] = qty;
        rows.flags[0] = r.buyerMaker ? FLAG_BUYER_MAKER : 0;
        batch ??= ctx.batches.take(job, day, ctx.batchRows);
        let st = appendRow(batch, rows, 0);
        if (st === AppendStatus.full) {
          cut();
          st = appendRow(batch, rows, 0);
        }
        if (st !== AppendStatus.ok)
          throw new Error(`${jobLabel(job)}: row refused by the batch (status ${st})`);
        written++;
      },
    });
    cut();
    const sha256 = hash.digest("hex");
    // Journaled when files landed, or when a whole day is stored (later runs skip it). A day of
    // no rows is not: REST serving nothing (a history that no longer reaches it, a symbol not
    // listed yet) is no proof that it is complete, so a later run asks again.
    if (staged.length > 0 || (read.complete && read.rows > 0)) {
      ctx.state.commit(staged);
      ctx.state.noteLanded({
        table: job.table,
        symbol: job.symbol,
        date: job.date,
        path,
        sha256,
        rows: read.rows,
        written,
        complete: read.complete,
      });
    }
    return {
      ...base,
      status: "landed",
      source: "rest",
      rows: read.rows,
      written,
      alreadyStored,
      files: staged.length,
      sha256,
      complete: read.complete,
      throughUs: read.throughUs,
      missingAtSource: read.missingAtSource,
      ms: performance.now() - t0,
    };
  } catch (e) {
    ctx.state.discard(staged);
    return {
      ...base,
      status: "failed",
      source: "rest",
      error: e instanceof Error ? e : new Error(String(e)),
      ms: performance.now() - t0,
    };
  } finally {
    if (batch) ctx.batches.give({ ...batch, rows: 0 });
  }
}
