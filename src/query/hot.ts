/**
 * The hot window: the most recent rows per (table, symbol), copied from the pipeline's RowColumns
 * as they are accepted, so a query issued right after a trade arrives sees it before any Parquet
 * file holds it. Each window is a fixed-capacity ring with ids strictly ascending; the engine
 * serves from it only ids above the highest id in a visible file, so hot and cold never overlap.
 */
import { FLAG_BUYER_MAKER, type RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import {
  EXCHANGE_BINANCE,
  isBookTable,
  TABLE_BY_ID,
  Table,
  type TableId,
  type TableName,
} from "../model/tables.ts";

export interface HotOptions {
  /** Rows kept per table and symbol (K2_QUERY_HOT_ROWS). */
  readonly rowsPerSymbol: number;
}

/** One ring; slot i of every column is one row. `at(k)` maps age order (0 = oldest) to a slot. */
export class HotRing {
  readonly id: Float64Array;
  readonly firstId: Float64Array;
  readonly lastId: Float64Array;
  readonly timeUs: Float64Array;
  readonly eventUs: Float64Array;
  readonly recvUs: Float64Array;
  readonly dec: [BigInt64Array, BigInt64Array, BigInt64Array, BigInt64Array];
  /** uint32 word views on dec (word 2i = low, 2i+1 = high): append copies words, not BigInts. */
  readonly decw: [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  readonly flags: Uint8Array;
  head = 0;
  size = 0;
  /** Highest id pushed out of the ring; ids up to it are only in files (if they got there). */
  evictedMaxId = -1;
  /** Rows refused because their id was not above the newest (duplicates, replays). */
  refused = 0;
  /**
   * First id of the newest run of consecutive ids (id = previous + 1). No row can ever join the
   * ring inside that run, so the ring holds every row with an id in [completeFromId, newestId]:
   * a late gap repair lands below a run's start (its ids were skipped when the run began).
   */
  runStartId = -1;
  /** True while every appended row's time is ≥ the previous one's, so time ranges can bisect. */
  timeSorted = true;
  /** Rows accepted so far: changes whenever the ring's contents do (a page cache's invalidation). */
  appended = 0;

  /**
   * Only the columns `kind`'s table stores get room; the others are empty (a row is 49 B for
   * trades, 65 B for agg trades, 56 B for quotes instead of 81 B each): with every table hot for
   * 20 symbols at 50,000 rows that is ~170 MB resident instead of ~243 MB once the windows fill.
   */
  constructor(
    readonly capacity: number,
    readonly kind: TableId = Table.trades,
  ) {
    const agg = kind === Table.agg_trades;
    const quotes = kind === Table.quotes;
    const f64 = (used: boolean) => new Float64Array(used ? capacity : 0);
    const i64 = (used: boolean) => new BigInt64Array(used ? capacity : 0);
    this.id = f64(true);
    this.firstId = f64(agg);
    this.lastId = f64(agg);
    this.eventUs = f64(true);
    // Quotes order on their event time (they have no trade time): one array serves both names.
    this.timeUs = quotes ? this.eventUs : f64(true);
    this.recvUs = f64(true);
    this.dec = [i64(true), i64(true), i64(quotes), i64(quotes)];
    this.decw = this.dec.map((d) => new Uint32Array(d.buffer)) as HotRing["decw"];
    this.flags = new Uint8Array(quotes ? 0 : capacity);
  }

  /** Bytes reserved by this ring's columns (resident once the ring has gone round once). */
  get reservedBytes(): number {
    const cols = [this.id, this.firstId, this.lastId, this.eventUs, this.recvUs, ...this.dec, this.flags];
    if (this.timeUs !== this.eventUs) cols.push(this.timeUs);
    let n = 0;
    for (const c of cols) n += c.byteLength;
    return n;
  }

  /** Bytes of the columns written so far: pages become resident as the ring fills, then stay. */
  get filledBytes(): number {
    return Math.round((this.reservedBytes * this.size) / this.capacity);
  }

  at(k: number): number {
    return (this.head + k) % this.capacity;
  }

  get newestId(): number {
    return this.size === 0 ? -1 : this.id[this.at(this.size - 1)]!;
  }

  get newestTimeUs(): number | undefined {
    return this.size === 0 ? undefined : this.timeUs[this.at(this.size - 1)];
  }

  /** Lowest id from which the ring is complete (see runStartId); -1 when empty. */
  get completeFromId(): number {
    return this.size === 0 ? -1 : Math.max(this.runStartId, this.id[this.head]!);
  }

  /** Age index of the first row with time ≥ `us` (only meaningful while timeSorted). */
  firstAtOrAfterTime(us: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeUs[this.at(mid)]! >= us) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Age index of the first row with id > `afterId` (size when none): ids ascend, so bisect. */
  firstAbove(afterId: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.id[this.at(mid)]! > afterId) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

export class HotWindow {
  readonly #rings = new Map<number, HotRing>();
  readonly #symbols: SymbolTable;
  readonly #capacity: number;
  #lastKey = -1;
  #lastRing: HotRing | undefined;

  constructor(symbols: SymbolTable, opts: HotOptions) {
    if (!Number.isInteger(opts.rowsPerSymbol) || opts.rowsPerSymbol < 1)
      throw new RangeError(`hot rows per symbol must be ≥ 1, got ${opts.rowsPerSymbol}`);
    this.#symbols = symbols;
    this.#capacity = opts.rowsPerSymbol;
  }

  /**
   * Copy row `slot` of `cols` (any table) into its window. Called by the pipeline per accepted row,
   * so it keeps the last (table, symbol)'s ring at hand: rows come in runs of one stream.
   */
  append(cols: RowColumns, slot: number): void {
    const kind = cols.kind[slot]! as TableId;
    // No hot window for the order books: a busy book makes hundreds of delta rows a second per
    // symbol (50,000 rows would hold minutes, at 65 B each, for every symbol), and their queries
    // read files, which the batcher cuts every K2_FLUSH_INTERVAL_MS.
    if (isBookTable(kind)) return;
    const key = kind * 65_536 + cols.symbol_id[slot]!;
    let ring = key === this.#lastKey ? this.#lastRing! : this.#rings.get(key);
    if (!ring) {
      ring = new HotRing(this.#capacity, kind);
      this.#rings.set(key, ring);
    }
    this.#lastKey = key;
    this.#lastRing = ring;
    const id = cols.id[slot]!;
    const empty = ring.size === 0;
    const newestId = ring.newestId;
    if (id <= newestId) {
      ring.refused++;
      return;
    }
    // Trades order and filter on the exchange's trade time; quotes (no trade time) on event time.
    const timeUs = kind === Table.quotes ? cols.event_time_us[slot]! : cols.trade_time_us[slot]!;
    ring.appended++;
    if (empty || id !== newestId + 1) ring.runStartId = id;
    if (!empty && timeUs < ring.newestTimeUs!) ring.timeSorted = false;
    let s: number;
    if (ring.size < ring.capacity) s = ring.at(ring.size++);
    else {
      s = ring.head;
      ring.evictedMaxId = ring.id[s]!;
      ring.head = (ring.head + 1) % ring.capacity;
    }
    ring.id[s] = id;
    ring.eventUs[s] = cols.event_time_us[slot]!;
    ring.timeUs[s] = timeUs; // after eventUs: for quotes it is the same array and the same value
    ring.recvUs[s] = cols.recv_time_us[slot]!;
    // Words, not BigInt64Array elements: a read of one makes a heap BigInt (see model/row.ts copyRow).
    const w = ring.decw;
    const s2 = s * 2;
    const f2 = slot * 2;
    w[0][s2] = cols.dec0w[f2]!;
    w[0][s2 + 1] = cols.dec0w[f2 + 1]!;
    w[1][s2] = cols.dec1w[f2]!;
    w[1][s2 + 1] = cols.dec1w[f2 + 1]!;
    // Only the columns this table has (see the HotRing constructor).
    if (kind === Table.quotes) {
      w[2][s2] = cols.dec2w[f2]!;
      w[2][s2 + 1] = cols.dec2w[f2 + 1]!;
      w[3][s2] = cols.dec3w[f2]!;
      w[3][s2 + 1] = cols.dec3w[f2 + 1]!;
    } else {
      ring.flags[s] = cols.flags[slot]!;
      if (kind === Table.agg_trades) {
        ring.firstId[s] = cols.first_id[slot]!;
        ring.lastId[s] = cols.last_id[slot]!;
      }
    }
  }

  ring(table: TableName, symbol: string): HotRing | undefined {
    const sid = this.#symbols.id(symbol);
    if (sid === undefined) return undefined;
    return this.#rings.get(Table[table] * 65_536 + sid);
  }

  /** Every (table, symbol) with hot rows, for /v1/symbols. */
  *entries(): IterableIterator<{ table: TableName; symbol: string; ring: HotRing }> {
    for (const [key, ring] of this.#rings) {
      const table = TABLE_BY_ID[Math.floor(key / 65_536) as TableId];
      yield { table, symbol: this.#symbols.name(key % 65_536), ring };
    }
  }
}

/** Stored value of column `name` for ring slot `s` (the RowColumns → stored-table mapping). */
export function hotValue(
  table: TableName,
  symbol: string,
  r: HotRing,
  s: number,
  name: string,
): number | bigint | string | boolean {
  switch (name) {
    case "exchange":
      return EXCHANGE_BINANCE;
    case "symbol":
      return symbol;
    case "trade_id":
    case "agg_trade_id":
    case "update_id":
      return r.id[s]!;
    case "first_trade_id":
      return r.firstId[s]!;
    case "last_trade_id":
      return r.lastId[s]!;
    case "price":
    case "bid_price":
      return r.dec[0][s]!;
    case "quantity":
    case "bid_quantity":
      return r.dec[1][s]!;
    case "ask_price":
      return r.dec[2][s]!;
    case "ask_quantity":
      return r.dec[3][s]!;
    case "side":
      return (r.flags[s]! & FLAG_BUYER_MAKER) !== 0 ? "SELL" : "BUY";
    case "is_buyer_maker":
      return (r.flags[s]! & FLAG_BUYER_MAKER) !== 0;
    case "trade_time_us":
      return r.timeUs[s]!;
    case "event_time_us":
      return r.eventUs[s]!;
    case "recv_time_us":
      return r.recvUs[s]!;
    default:
      throw new RangeError(`no hot value for ${table}.${name}`);
  }
}
