/**
 * Where a row travels on the bus: `k2.<table>.<shard>.<SYMBOL>`. The shard token lets a writer
 * take its share with one wildcard filter, `k2.*.<shard>.*` (server 2.9 refuses a consumer with
 * several filter subjects), and keeps every row of a symbol with one writer, which is what makes
 * its (table, symbol, id) de-duplication and its files per symbol possible.
 */
import { SYMBOL_RE, TABLE_NAMES, type TableName } from "../model/index.ts";
import { BusError } from "./errors.ts";

/** First token of every K2 subject; a stream that captures `k2.>` holds all tables. */
export const SUBJECT_ROOT = "k2";
export const STREAM_SUBJECTS = `${SUBJECT_ROOT}.>`;
/** Writer shards are few (one durable consumer each); the bound keeps a typo from making 10^6. */
export const MAX_SHARDS = 1024;

export function checkShards(shards: number): void {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)
    throw new BusError("config", `shard count must be an integer from 1 to ${MAX_SHARDS}, got ${shards}`);
}

/**
 * The one hash that places a symbol: 32-bit FNV-1a over its ASCII characters, then murmur3's
 * fmix32 finalizer. Stable across processes, versions and machines: a recorder and a writer that
 * disagree would split a symbol's rows between two writers, and changing it re-shards every
 * symbol, so never change it in place. The finalizer is there because FNV-1a's low k bits depend
 * only on the low k bits of each character (a multiply carries upwards only): with a power-of-two
 * shard count, `BTCUSDT` and a symbol differing from it only in a high bit of one letter
 * (`A` 0x41 vs `Q` 0x51) would always share a shard.
 */
export function symbolHash(symbol: string): number {
  return fmix32(fnv1a32(symbol));
}

/** 32-bit FNV-1a (exported for its test vectors). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function shardOf(symbol: string, shards: number): number {
  return symbolHash(symbol) % shards;
}

export function subjectOf(table: TableName, symbol: string, shards: number): string {
  return `${SUBJECT_ROOT}.${table}.${shardOf(symbol, shards)}.${symbol}`;
}

/** The filter of writer shard `shard`: every table, every symbol of that shard. */
export function shardFilter(shard: number, shards: number): string {
  checkShards(shards);
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards)
    throw new BusError("config", `writer shard must be an integer from 0 to ${shards - 1}, got ${shard}`);
  return `${SUBJECT_ROOT}.*.${shard}.*`;
}

/**
 * The subject token of closed klines (kline-codec.ts): `k2.klines.<shard>.<SYMBOL>`, beside the
 * tables so the writer's one shard filter takes its symbols' klines too. Not a table name.
 */
export const KLINE_SUBJECT_KIND = "klines";

export function klineSubjectOf(symbol: string, shards: number): string {
  return `${SUBJECT_ROOT}.${KLINE_SUBJECT_KIND}.${shardOf(symbol, shards)}.${symbol}`;
}

/** The shard and symbol of a kline subject; undefined for any other subject (tables included). */
export function parseKlineSubject(subject: string): { shard: number; symbol: string } | undefined {
  const p = subject.split(".");
  if (p.length !== 4 || p[0] !== SUBJECT_ROOT || p[1] !== KLINE_SUBJECT_KIND) return undefined;
  const shard = Number(p[2]);
  if (!/^\d+$/.test(p[2] ?? "") || shard >= MAX_SHARDS || !SYMBOL_RE.test(p[3] ?? ""))
    throw new BusError(
      "malformed",
      `subject ${JSON.stringify(subject)} is not ${SUBJECT_ROOT}.${KLINE_SUBJECT_KIND}.<shard>.<SYMBOL>`,
    );
  return { shard, symbol: p[3]! };
}

export interface SubjectParts {
  readonly table: TableName;
  readonly shard: number;
  readonly symbol: string;
}

/** The parts of a K2 subject; a BusError ("malformed") names what is wrong with any other. */
export function parseSubject(subject: string): SubjectParts {
  const p = subject.split(".");
  const table = p[1] as TableName;
  const shard = Number(p[2]);
  const symbol = p[3] ?? "";
  if (
    p.length !== 4 ||
    p[0] !== SUBJECT_ROOT ||
    !TABLE_NAMES.includes(table) ||
    !/^\d+$/.test(p[2] ?? "") ||
    shard >= MAX_SHARDS ||
    !SYMBOL_RE.test(symbol)
  )
    throw new BusError(
      "malformed",
      `subject ${JSON.stringify(subject)} is not ${SUBJECT_ROOT}.<table>.<shard>.<SYMBOL> (tables: ${TABLE_NAMES.join(", ")})`,
    );
  return { table, shard, symbol };
}

/**
 * Nats-Msg-Id of a recorder's kline: it guards only that recorder's retries. The other recorder's
 * copy is stored too; the writer judges the minute once (keyed by symbol and open time).
 */
export function klineMsgId(recorder: string, symbol: string, openTimeUs: number): string {
  return `${recorder}.${KLINE_SUBJECT_KIND}.${symbol}.${openTimeUs}`;
}

/**
 * Nats-Msg-Id of a one-row message: the row's exactly-once key (table, symbol, id), the same from
 * every recorder, so JetStream keeps the first copy and acks the others as duplicates.
 */
export function rowMsgId(table: TableName, symbol: string, id: number): string {
  return `${table}.${symbol}.${id}`;
}

/**
 * Nats-Msg-Id of a batch: it only guards one recorder's retries of the same batch. The recorder's
 * id is part of it because two recorders may cut batches with the same first and last id but
 * different rows (one missed a quote the other has): a shared id would let JetStream drop the
 * fuller one. Duplicates across recorders are the writers' to drop, on (table, symbol, id).
 */
export function batchMsgId(
  recorder: string,
  table: TableName,
  symbol: string,
  firstId: number,
  lastId: number,
): string {
  return `${recorder}.${table}.${symbol}.${firstId}-${lastId}`;
}
