/**
 * Frames received before the ingest exists. During a hand-over the new K2 opens its WebSocket
 * sessions while the old one still owns the data dir (make-before-break): what arrives is held
 * here, in arrival order, until the old K2 has made its rows visible and the new one has opened
 * storage; then everything held goes through the ordinary ingest (whose sequencer, seeded from
 * the files, drops what the old K2 already stored) and live frames follow. Bounded by bytes:
 * a hand-over that cannot finish within it fails rather than grow without limit.
 */
import { DecodeStatus, decodeFrame, type SymbolLookup } from "../decode/binance/index.ts";
import { allocRowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID, type TableId } from "../model/tables.ts";

export interface FrameSink {
  onFrame(frame: string, recvTimeUs: number, shard: number): void;
  /**
   * A frame's bytes `frame[start, end)`, valid only during the call: true when taken, false when
   * nothing was done and the frame must come again as a string (onFrame). Staging holds strings.
   */
  onFrameBytes?(frame: Buffer, start: number, end: number, recvTimeUs: number, shard: number): boolean;
  onBinary(frame: Uint8Array, recvTimeUs: number, shard: number): void;
}

type Held =
  | { text: string; bin: null; recvTimeUs: number; shard: number }
  | { text: null; bin: Uint8Array; recvTimeUs: number; shard: number };

/** Bytes a hand-over may hold: at Binance's busiest (~100k frames/s × 200 B) about 10 s. */
export const STAGING_MAX_BYTES = 256 * 1024 * 1024;

export class FrameStaging implements FrameSink {
  readonly #held: Held[] = [];
  readonly #scratch = allocRowColumns(1);
  /** First id seen per "table:SYMBOL" (the new K2's side of the hand-over's cut). */
  readonly firstIds = new Map<string, number>();
  bytes = 0;
  /** Set when a frame did not fit: the hand-over must fail, nothing may be dropped silently. */
  overflowed = false;

  constructor(
    private readonly lookup: SymbolLookup,
    private readonly symbols: SymbolTable,
    private readonly maxBytes = STAGING_MAX_BYTES,
  ) {}

  get frames(): number {
    return this.#held.length;
  }

  onFrame(frame: string, recvTimeUs: number, shard: number): void {
    if (!this.#room(frame.length * 2)) return;
    this.#held.push({ text: frame, bin: null, recvTimeUs, shard });
    const s = this.#scratch;
    if (decodeFrame(frame, this.lookup, s, 0, recvTimeUs, true) !== DecodeStatus.OK) return;
    const key = `${TABLE_BY_ID[s.kind[0] as TableId]}:${this.symbols.name(s.symbol_id[0]!)}`;
    if (!this.firstIds.has(key)) this.firstIds.set(key, s.id[0]!);
  }

  onBinary(frame: Uint8Array, recvTimeUs: number, shard: number): void {
    // Copied: the source may reuse the buffer once this returns.
    if (this.#room(frame.byteLength)) this.#held.push({ text: null, bin: frame.slice(), recvTimeUs, shard });
  }

  #room(bytes: number): boolean {
    if (this.overflowed || this.bytes + bytes > this.maxBytes) {
      this.overflowed = true;
      return false;
    }
    this.bytes += bytes;
    return true;
  }

  /** Hand every held frame, in arrival order, to `sink`; then hold nothing. */
  drainInto(sink: FrameSink): number {
    const n = this.#held.length;
    for (const h of this.#held) {
      if (h.text !== null) sink.onFrame(h.text, h.recvTimeUs, h.shard);
      else sink.onBinary(h.bin, h.recvTimeUs, h.shard);
    }
    this.#held.length = 0;
    this.bytes = 0;
    return n;
  }
}
