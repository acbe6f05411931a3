/**
 * Walks the records of one segment held in memory and classifies where it stops. Shared by
 * recovery (which repairs the tail) and replay (which only reads).
 */
import {
  BODY_FIXED_BYTES,
  crc32,
  hasMagic,
  MAX_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_LEN_BYTES,
  SEGMENT_HEADER_BYTES,
} from "./format.ts";

/** Why a cursor stopped before the end of its bytes. */
export type StopReason = "bad_header" | "short" | "bad_length" | "bad_crc";

export class SegmentCursor {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  /** Offset of the next unread record; after a stop, the offset of the bad one. */
  offset = SEGMENT_HEADER_BYTES;
  /** Set when next() returned false before the end of the bytes. */
  stop: StopReason | null = null;
  /** Offset of the record next() just returned. */
  recordStart = 0;
  seq = 0;
  recvTimeUs = 0;
  tag = 0;
  payloadStart = 0;
  payloadEnd = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (!hasMagic(bytes)) {
      this.offset = 0;
      this.stop = bytes.length < SEGMENT_HEADER_BYTES ? "short" : "bad_header";
    }
  }

  /** Advance to the next good record; false at the end or at the first bad record. */
  next(): boolean {
    if (this.stop !== null) return false;
    const b = this.#bytes;
    const off = this.offset;
    const left = b.length - off;
    if (left === 0) return false;
    if (left < RECORD_HEADER_BYTES) return this.#halt("short");
    const bodyLen = this.#view.getUint32(off, true);
    if (bodyLen < BODY_FIXED_BYTES || bodyLen > BODY_FIXED_BYTES + MAX_PAYLOAD_BYTES)
      return this.#halt("bad_length");
    const end = off + RECORD_LEN_BYTES + bodyLen;
    if (end > b.length) return this.#halt("short");
    if (crc32(b, off + RECORD_LEN_BYTES, end) !== this.#view.getUint32(off + 4, true))
      return this.#halt("bad_crc");
    this.seq = this.#view.getFloat64(off + 8, true);
    this.recvTimeUs = this.#view.getFloat64(off + 16, true);
    this.tag = b[off + 24]!;
    this.payloadStart = off + RECORD_HEADER_BYTES;
    this.payloadEnd = end;
    this.recordStart = off;
    this.offset = end;
    return true;
  }

  /**
   * After a stop: does the damage look like an interrupted write at the end of the file rather
   * than bytes changed in place? A record cut short by EOF, a bad checksum on a record that ends
   * exactly at EOF (a partly persisted last page), or nothing but zeros to EOF (a file extended
   * but never written, as after power loss on ext4/xfs) all are; anything else is corruption.
   */
  stopLooksTorn(): boolean {
    if (this.stop === "short") return true;
    if (this.stop === "bad_header") return false;
    const b = this.#bytes;
    if (this.stop === "bad_crc") {
      const end = this.offset + RECORD_LEN_BYTES + this.#view.getUint32(this.offset, true);
      if (end === b.length) return true;
    }
    for (let i = this.offset; i < b.length; i++) if (b[i] !== 0) return false;
    return true;
  }

  #halt(reason: StopReason): false {
    this.stop = reason;
    return false;
  }
}
