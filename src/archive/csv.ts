/**
 * Archive CSV lines → rows, allocation-light: bytes are scanned once, numbers accumulate in
 * doubles, decimals are written as scaled-int64 words (model/decimal.ts writeScaledWords), rows go
 * into caller-owned columns (model/row.ts for trades and aggTrades, model/kline.ts for klines) in
 * batches. Lines may be split anywhere across pushed chunks. The first bad line throws an
 * ArchiveError naming the line, the field and what was expected; the caller discards what it
 * staged from that file (see reader.ts).
 *
 * Layouts (no header; Binance spot archive):
 *   trades:    trade id, price, qty, quoteQty, time, isBuyerMaker, isBestMatch
 *   aggTrades: agg id, price, qty, first trade id, last trade id, time, isBuyerMaker, isBestMatch
 *   klines:    open time, open, high, low, close, volume, close time, quote volume, trades,
 *              taker buy base, taker buy quote, ignore
 * Rows: price → dec0, qty → dec1 (dec2/dec3 = 0, quoteQty is checked, not kept); the archive has no
 * event time, so event_time_us = trade_time_us; recv_time_us is the caller's (when it read the file).
 */
import {
  DECIMAL_MAX_INTEGER_DIGITS,
  DECIMAL_SCALE,
  FLAG_BUYER_MAKER,
  type KlineColumns,
  NO_TRADE_ID,
  type RowColumns,
  Table,
  writeScaledWords,
} from "../model/index.ts";
import { ArchiveError } from "./errors.ts";
import type { ArchiveDataset } from "./layout.ts";
import { archiveTimeToUs } from "./time-unit.ts";

/** Longest line accepted (a kline line is about 150 bytes); longer is malformed, not buffered on. */
export const MAX_LINE_BYTES = 1024;
const MAX_EXACT = 9_007_199_254_740_992;
/** 10^(8 - n): pads a fraction of n digits to 8. */
const PAD = [1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];
/** An integer part this large has more than DECIMAL_MAX_INTEGER_DIGITS digits. */
const INT_LIMIT = 10 ** DECIMAL_MAX_INTEGER_DIGITS;

const FIELDS: Record<ArchiveDataset, readonly string[]> = {
  trades: ["trade id", "price", "qty", "quoteQty", "time", "isBuyerMaker", "isBestMatch"],
  aggTrades: [
    "agg id",
    "price",
    "qty",
    "first trade id",
    "last trade id",
    "time",
    "isBuyerMaker",
    "isBestMatch",
  ],
  klines: [
    "open time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close time",
    "quote volume",
    "trades",
    "taker buy base",
    "taker buy quote",
    "ignore",
  ],
};

/**
 * Where parsed rows go: `flush(count)` hands on slots 0..count-1, which are reused afterwards.
 * `flush` may replace `rows` (another window of a batch); its capacity is read again after each.
 */
export type CsvOutput =
  | { dataset: "trades" | "aggTrades"; rows: RowColumns; flush(count: number): void }
  | { dataset: "klines"; klines: KlineColumns; flush(count: number): void };

/** Field failure codes: which expectation a field missed (for the error sentence). */
const E_INT = 1;
const E_DEC = 2;
const E_BOOL = 3;
const E_SEP = 4;
const E_MORE = 5;
const E_EXTRA = 6;
const EXPECT = [
  "",
  "expected a non-negative integer below 2^53 without leading zeros",
  "expected a decimal with ≤ 10 integer and ≤ 8 fraction digits",
  "expected True or False",
  "expected ',' after it",
  "missing (the line has too few fields)",
  "expected the end of the line after it",
];

export class ArchiveCsvParser {
  /** Lines parsed so far (1-based number of the last complete line). */
  lines = 0;
  /** Rows handed on through flush, plus the ones pending in the current batch. */
  rowsParsed = 0;
  private slot = 0;
  private cap: number;
  private readonly carry = new Uint8Array(MAX_LINE_BYTES);
  private carryLen = 0;
  /** Scan cursor and the last parsed integer (no result objects on the per-field path). */
  private p = 0;
  private v = 0;
  private field = 0;

  constructor(
    private readonly out: CsvOutput,
    private readonly symbolId: number,
    private readonly recvTimeUs: number,
    private readonly label: string,
  ) {
    this.cap = this.capacity();
  }

  /** The output's capacity, read again after each flush: `flush` may hand a new window (batch-window.ts). */
  private capacity(): number {
    const o = this.out;
    return o.dataset === "klines" ? o.klines.capacity : o.rows.capacity;
  }

  /** Parse every complete line in `chunk`; a trailing partial line waits for the next chunk. */
  push(chunk: Uint8Array): void {
    let start = 0;
    const n = chunk.length;
    if (this.carryLen > 0) {
      const nl = chunk.indexOf(0x0a);
      const take = nl < 0 ? n : nl;
      if (this.carryLen + take > MAX_LINE_BYTES) this.tooLong(this.carry, 0, this.carryLen);
      this.carry.set(chunk.subarray(0, take), this.carryLen);
      this.carryLen += take;
      if (nl < 0) return;
      this.line(this.carry, 0, this.carryLen);
      this.carryLen = 0;
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      this.line(chunk, start, nl);
      start = nl + 1;
    }
    const rest = n - start;
    if (rest > MAX_LINE_BYTES) this.tooLong(chunk, start, n);
    this.carry.set(chunk.subarray(start), 0);
    this.carryLen = rest;
  }

  /** The input ended: parse a last line without newline, hand on the pending batch. */
  end(): void {
    if (this.carryLen > 0) {
      this.line(this.carry, 0, this.carryLen);
      this.carryLen = 0;
    }
    if (this.slot > 0) this.out.flush(this.slot);
    this.slot = 0;
  }

  private line(b: Uint8Array, start: number, end: number): void {
    this.lines++;
    if (end > start && b[end - 1] === 0x0d) end--; // CRLF
    const slot = this.slot;
    this.p = start;
    this.field = 0;
    const o = this.out;
    const err =
      o.dataset === "klines"
        ? this.kline(b, end, o.klines, slot)
        : this.trade(b, end, o.rows, slot, o.dataset === "aggTrades");
    if (err !== 0) this.fail(b, start, end, `${FIELDS[o.dataset][this.field]}: ${EXPECT[err]}`);
    this.rowsParsed++;
    if (++this.slot === this.cap) {
      this.out.flush(this.cap);
      this.slot = 0;
      this.cap = this.capacity();
    }
  }

  private trade(b: Uint8Array, end: number, r: RowColumns, slot: number, agg: boolean): number {
    let e = this.int(b, end);
    if (e) return e;
    r.id[slot] = this.v;
    e = this.next(b, end) || this.dec(b, end, r.dec0w, slot);
    if (e) return e;
    e = this.next(b, end) || this.dec(b, end, r.dec1w, slot);
    if (e) return e;
    if (agg) {
      e = this.next(b, end) || this.int(b, end);
      if (e) return e;
      r.first_id[slot] = this.v;
      e = this.next(b, end) || this.int(b, end);
      if (e) return e;
      r.last_id[slot] = this.v;
    } else {
      // quoteQty: checked as a decimal, not kept (dec2 of a trade row is 0); the scratch write is undone below.
      e = this.next(b, end) || this.dec(b, end, r.dec2w, slot);
      if (e) return e;
      r.first_id[slot] = 0;
      r.last_id[slot] = 0;
    }
    e = this.next(b, end) || this.int(b, end);
    if (e) return e;
    const us = archiveTimeToUs(this.v);
    if (us >= MAX_EXACT) return E_INT;
    r.trade_time_us[slot] = us;
    r.event_time_us[slot] = us;
    e = this.next(b, end) || this.bool(b, end);
    if (e) return e;
    r.flags[slot] = this.v === 1 ? FLAG_BUYER_MAKER : 0;
    e = this.next(b, end) || this.bool(b, end);
    if (e) return e;
    if (this.p !== end) return E_EXTRA;
    r.kind[slot] = agg ? Table.agg_trades : Table.trades;
    r.symbol_id[slot] = this.symbolId;
    r.recv_time_us[slot] = this.recvTimeUs;
    r.dec2w[2 * slot] = 0;
    r.dec2w[2 * slot + 1] = 0;
    r.dec3w[2 * slot] = 0;
    r.dec3w[2 * slot + 1] = 0;
    return 0;
  }

  private kline(b: Uint8Array, end: number, k: KlineColumns, slot: number): number {
    let e = this.int(b, end);
    if (e) return e;
    k.open_time_us[slot] = archiveTimeToUs(this.v);
    e = this.next(b, end) || this.dec(b, end, k.openw, slot);
    if (e) return e;
    e = this.next(b, end) || this.dec(b, end, k.highw, slot);
    if (e) return e;
    e = this.next(b, end) || this.dec(b, end, k.loww, slot);
    if (e) return e;
    e = this.next(b, end) || this.dec(b, end, k.closew, slot);
    if (e) return e;
    e = this.next(b, end) || this.dec(b, end, k.volumew, slot);
    if (e) return e;
    e = this.next(b, end) || this.int(b, end);
    if (e) return e;
    k.close_time_us[slot] = archiveTimeToUs(this.v);
    e = this.next(b, end) || this.dec(b, end, k.quote_volumew, slot);
    if (e) return e;
    e = this.next(b, end) || this.int(b, end);
    if (e) return e;
    k.trades[slot] = this.v;
    e = this.next(b, end) || this.dec(b, end, k.taker_buy_volumew, slot);
    if (e) return e;
    e = this.next(b, end) || this.dec(b, end, k.taker_buy_quote_volumew, slot);
    if (e) return e;
    e = this.next(b, end);
    if (e) return e; // "ignore": any text to the end of the line
    k.symbol_id[slot] = this.symbolId;
    k.event_time_us[slot] = 0;
    k.first_id[slot] = NO_TRADE_ID;
    k.last_id[slot] = NO_TRADE_ID;
    k.closed[slot] = 1;
    return 0;
  }

  /** A ',' between fields: 0; E_SEP (blaming the field before) for other bytes; E_MORE at the end. */
  private next(b: Uint8Array, end: number): number {
    if (this.p < end && b[this.p] !== 0x2c) return E_SEP;
    this.field++;
    if (this.p >= end) return E_MORE;
    this.p++;
    return 0;
  }

  /** Non-negative integer without leading zeros, below 2^53, into this.v. */
  private int(b: Uint8Array, end: number): number {
    const first = this.p;
    let i = first;
    let v = 0;
    // (byte - '0') >>> 0 < 10: one unsigned compare per digit.
    for (; i < end; i++) {
      const d = b[i]! - 48;
      if (d >>> 0 >= 10) break;
      v = v * 10 + d;
    }
    if (i === first || (b[first] === 48 && i - first > 1) || v >= MAX_EXACT) return E_INT;
    this.v = v;
    this.p = i;
    return 0;
  }

  /**
   * Plain decimal (as model/decimal.ts parseDecimal accepts: leading zeros, ≤ 10 significant
   * integer digits, ≤ 8 significant fraction digits, trailing zeros beyond) into words of `w` at
   * `slot`. The integer part is compared with 10^10 once instead of counting digits as it goes
   * (a double stays ≥ 10^10 however many digits follow).
   */
  private dec(b: Uint8Array, end: number, w: Uint32Array, slot: number): number {
    const first = this.p;
    let i = first;
    let int = 0;
    for (; i < end; i++) {
      const d = b[i]! - 48;
      if (d >>> 0 >= 10) break;
      int = int * 10 + d;
    }
    if (i === first || int >= INT_LIMIT) return E_DEC;
    let frac = 0;
    if (i < end && b[i] === 0x2e) {
      const start = ++i;
      const stop = Math.min(end, start + DECIMAL_SCALE);
      for (; i < stop; i++) {
        const d = b[i]! - 48;
        if (d >>> 0 >= 10) break;
        frac = frac * 10 + d;
      }
      if (i === start) return E_DEC;
      frac *= PAD[i - start]!;
      // Digits past the 8th: only zeros fit a DECIMAL(18,8).
      for (; i < end; i++) {
        const d = b[i]! - 48;
        if (d >>> 0 >= 10) break;
        if (d !== 0) return E_DEC;
      }
    }
    writeScaledWords(w, slot, int, frac);
    this.p = i;
    return 0;
  }

  /** `True`/`False` (Binance writes Python's spelling; lower case is accepted too) into this.v. */
  private bool(b: Uint8Array, end: number): number {
    const i = this.p;
    const c = b[i]! | 0x20;
    if (c === 0x74 && i + 4 <= end && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
      this.v = 1;
      this.p = i + 4;
      return 0;
    }
    if (
      c === 0x66 &&
      i + 5 <= end &&
      b[i + 1] === 0x61 &&
      b[i + 2] === 0x6c &&
      b[i + 3] === 0x73 &&
      b[i + 4] === 0x65
    ) {
      this.v = 0;
      this.p = i + 5;
      return 0;
    }
    return E_BOOL;
  }

  private tooLong(b: Uint8Array, start: number, end: number): never {
    this.lines++;
    this.fail(b, start, end, `line longer than ${MAX_LINE_BYTES} bytes`);
  }

  private fail(b: Uint8Array, start: number, end: number, what: string): never {
    const text = new TextDecoder().decode(b.subarray(start, Math.min(end, start + 160)));
    throw new ArchiveError("malformed_line", `${this.label} line ${this.lines}: ${what}, got "${text}"`);
  }
}
