/**
 * Caller-owned storage for one decoded depth frame (diff, partial depth or REST snapshot): ids,
 * times and the levels of each side as DECIMAL(18,8) scaled integers, two uint32 words per value
 * (low word at 2·i, high at 2·i+1, the layout numbers.ts scanDecimal writes; model/decimal.ts is
 * the owner of the scale).
 *
 * Levels per frame vary (a quiet 100 ms diff has 1–10, a REST snapshot up to 5,000 per side), so
 * each side starts at `initialLevels` and doubles only when a frame has more levels than it
 * holds (counted in `grows`); after that the larger arrays are kept, so a steady stream stops
 * allocating once it has seen its largest frame. A side never grows past `maxLevels`: a frame
 * with more levels is refused as TOO_LARGE.
 */
import { DecodeStatus as S, statusName } from "./status.ts";

/** A `<symbol>@depth[@100ms]` diff event (`depthUpdate`). */
export const DEPTH_DIFF = 1;
/** A `<symbol>@depth<5|10|20>[@100ms]` partial-depth event (top levels + lastUpdateId). */
export const DEPTH_PARTIAL = 2;
/** A `GET /api/v3/depth` snapshot body. */
export const DEPTH_SNAPSHOT = 3;

/** Levels per side a frame may carry unless the caller says otherwise (2× the REST maximum). */
export const DEPTH_MAX_LEVELS_PER_SIDE = 10_000;
/** Levels per side held before the first growth: more than a busy symbol's 100 ms diff. */
export const DEPTH_INITIAL_LEVELS = 64;
/**
 * Longest depth frame accepted (code units or bytes). A 5,000-level REST snapshot is about
 * 0.45 MB with Binance's padding; 4 MiB leaves room for whitespace and for maxLevels frames.
 */
export const DEPTH_MAX_FRAME_LENGTH = 4 * 1024 * 1024;

/** Which part of a frame a refusal points at (DepthFrame.rejectSide). */
export const REJECT_FRAME = 0;
export const REJECT_BIDS = 1;
export const REJECT_ASKS = 2;

/** One side's levels: `n` valid, price and quantity words for level i at 2·i and 2·i+1. */
export class DepthSide {
  n = 0;
  pxw: Uint32Array;
  qtyw: Uint32Array;
  readonly maxLevels: number;
  /** Times this side's arrays were replaced by larger ones. */
  grows = 0;

  constructor(initialLevels: number, maxLevels: number) {
    this.pxw = new Uint32Array(2 * initialLevels);
    this.qtyw = new Uint32Array(2 * initialLevels);
    this.maxLevels = maxLevels;
  }

  /** Levels the arrays hold before the next growth. */
  get capacity(): number {
    return this.pxw.length >> 1;
  }

  /** Make room for level index `i`; false when `i` is at or past maxLevels. Allocates only on growth. */
  ensure(i: number): boolean {
    if (i < this.pxw.length >> 1) return true;
    if (i >= this.maxLevels) return false;
    const cap = Math.min(this.maxLevels, Math.max(2 * (this.pxw.length >> 1), 1));
    const px = new Uint32Array(2 * cap);
    const qty = new Uint32Array(2 * cap);
    px.set(this.pxw);
    qty.set(this.qtyw);
    this.pxw = px;
    this.qtyw = qty;
    this.grows++;
    return true;
  }

  /** Level i's price as a BigInt (tests, cold paths). */
  price(i: number): bigint {
    return words(this.pxw, i);
  }

  /** Level i's quantity as a BigInt (tests, cold paths). */
  quantity(i: number): bigint {
    return words(this.qtyw, i);
  }
}

function words(w: Uint32Array, i: number): bigint {
  return (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!);
}

export class DepthFrame {
  /** DEPTH_DIFF, DEPTH_PARTIAL or DEPTH_SNAPSHOT (valid after OK). */
  kind = 0;
  symbolId = -1;
  /** Diff: `U`. Partial depth and snapshot: `lastUpdateId`. */
  firstId = 0;
  /** Diff: `u`. Partial depth and snapshot: `lastUpdateId`. */
  lastId = 0;
  /** Diff: `E` in µs. Partial depth and snapshot carry no time: the receive time. */
  eventTimeUs = 0;
  recvTimeUs = 0;
  readonly bids: DepthSide;
  readonly asks: DepthSide;
  /** After a refusal: REJECT_FRAME, REJECT_BIDS or REJECT_ASKS, and the level index (-1: none). */
  rejectSide = REJECT_FRAME;
  rejectLevel = -1;

  constructor(initialLevels = DEPTH_INITIAL_LEVELS, maxLevels = DEPTH_MAX_LEVELS_PER_SIDE) {
    this.bids = new DepthSide(initialLevels, maxLevels);
    this.asks = new DepthSide(initialLevels, maxLevels);
  }

  /** Growths of either side since construction (the bench and tests read it). */
  get grows(): number {
    return this.bids.grows + this.asks.grows;
  }
}

const REASON: Record<number, string> = {
  [S.TRUNCATED]: "the frame ends inside a value",
  [S.MALFORMED]: "it is not valid JSON of the expected shape (or repeats a key, or has U > u)",
  [S.MISSING_FIELD]: "a required field is missing",
  [S.BAD_NUMBER]: "a time is not a non-negative integer below 2^53 µs",
  [S.BAD_DECIMAL]: "a price or quantity is not a plain non-negative DECIMAL(18,8) string",
  [S.ID_OUT_OF_RANGE]: "an update id is negative or not below 2^53",
  [S.UNKNOWN_EVENT]: "it is neither a depthUpdate nor a partial-depth/snapshot object",
  [S.BAD_TYPE]: "a field has the wrong JSON type (a level must be [price, quantity] strings)",
  [S.BAD_UTF8]: "it is not valid UTF-8",
  [S.TOO_LARGE]: "it is longer than the depth frame limit or has more levels per side than allowed",
  [S.NOT_CONFIGURED]: "its symbol or stream is not one this decoder was configured for",
};

/** One sentence saying why a depth frame was refused (cold path: logs and the dead-letter queue). */
export function describeDepthReject(status: number, f: DepthFrame): string {
  const where =
    f.rejectSide === REJECT_FRAME
      ? ""
      : ` (at ${f.rejectSide === REJECT_BIDS ? "bids" : "asks"} level ${f.rejectLevel})`;
  return `depth frame refused as ${statusName(status)}: ${REASON[status] ?? "unexpected status"}${where}.`;
}
