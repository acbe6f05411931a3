/**
 * Kline (candle) rows: what a `<symbol>@kline_1m` frame (decode/binance/kline.ts) and a klines
 * archive CSV line (archive/csv.ts) say about one interval. Not a stored table: the reconciliation
 * (issue 17) compares these with the stored trades. Struct-of-arrays, allocated once, written by
 * slot like RowColumns (model/row.ts); decimals are int64 scaled by 1e8 (model/decimal.ts) written
 * through the `*w` word views.
 *
 * | column          | stream `k` field | archive CSV column |
 * |-----------------|------------------|--------------------|
 * | symbol_id       | `s`              | caller's symbol    |
 * | event_time_us   | `E`              | 0                  |
 * | open_time_us    | `t`              | open time          |
 * | close_time_us   | `T`              | close time         |
 * | first_id        | `f` (-1: none)   | -1 (not published) |
 * | last_id         | `L` (-1: none)   | -1 (not published) |
 * | trades          | `n`              | trades             |
 * | open/high/low/close | `o` `h` `l` `c` | open high low close |
 * | volume          | `v` base volume  | volume             |
 * | quote_volume    | `q`              | quote volume       |
 * | taker_buy_volume / taker_buy_quote_volume | `V` `Q` | taker buy base / quote |
 * | closed          | `x` (1 = final)  | 1                  |
 */
export const NO_TRADE_ID = -1;

export interface KlineColumns {
  readonly capacity: number;
  readonly symbol_id: Uint16Array;
  readonly event_time_us: Float64Array;
  readonly open_time_us: Float64Array;
  readonly close_time_us: Float64Array;
  readonly first_id: Float64Array;
  readonly last_id: Float64Array;
  readonly trades: Float64Array;
  readonly open: BigInt64Array;
  readonly high: BigInt64Array;
  readonly low: BigInt64Array;
  readonly close: BigInt64Array;
  readonly volume: BigInt64Array;
  readonly quote_volume: BigInt64Array;
  readonly taker_buy_volume: BigInt64Array;
  readonly taker_buy_quote_volume: BigInt64Array;
  /** uint32 word views on the decimal columns, in the order above. */
  readonly openw: Uint32Array;
  readonly highw: Uint32Array;
  readonly loww: Uint32Array;
  readonly closew: Uint32Array;
  readonly volumew: Uint32Array;
  readonly quote_volumew: Uint32Array;
  readonly taker_buy_volumew: Uint32Array;
  readonly taker_buy_quote_volumew: Uint32Array;
  readonly closed: Uint8Array;
}

export function allocKlineColumns(capacity: number): KlineColumns {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`kline capacity must be ≥ 1, got ${capacity}`);
  const d = () => new BigInt64Array(capacity);
  const open = d();
  const high = d();
  const low = d();
  const close = d();
  const volume = d();
  const quote = d();
  const tbv = d();
  const tbq = d();
  const w = (a: BigInt64Array) => new Uint32Array(a.buffer);
  return {
    capacity,
    symbol_id: new Uint16Array(capacity),
    event_time_us: new Float64Array(capacity),
    open_time_us: new Float64Array(capacity),
    close_time_us: new Float64Array(capacity),
    first_id: new Float64Array(capacity),
    last_id: new Float64Array(capacity),
    trades: new Float64Array(capacity),
    open,
    high,
    low,
    close,
    volume,
    quote_volume: quote,
    taker_buy_volume: tbv,
    taker_buy_quote_volume: tbq,
    openw: w(open),
    highw: w(high),
    loww: w(low),
    closew: w(close),
    volumew: w(volume),
    quote_volumew: w(quote),
    taker_buy_volumew: w(tbv),
    taker_buy_quote_volumew: w(tbq),
    closed: new Uint8Array(capacity),
  };
}
