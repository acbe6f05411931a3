/**
 * A zip on disk seen through the few DataView getters the record parser (zip.ts) uses, so one
 * parser reads a zip in memory (a DataView) and one on disk alike. The records it reads (end of
 * central directory, zip64 records, the one directory entry, the local header, a data
 * descriptor) lie in a few places, each a few hundred bytes: they are read in windows of
 * WINDOW_BYTES, never the data between them.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** What the record parser reads a zip through; DataView is one. */
export interface ZipView {
  readonly byteLength: number;
  getUint8(at: number): number;
  getUint16(at: number, littleEndian: boolean): number;
  getUint32(at: number, littleEndian: boolean): number;
  getBigUint64(at: number, littleEndian: boolean): bigint;
}

/**
 * A window holds the end-of-central-directory record with the longest comment (22 + 65,535
 * bytes) and the zip64 records and directory entry before it, so a zip's tail is one read.
 */
const WINDOW_BYTES = 1 << 18;

export class FileZipView implements ZipView {
  #buf = new Uint8Array(WINDOW_BYTES);
  #dv = new DataView(this.#buf.buffer);
  /** File offset of the window's first byte, and its length (0: nothing read yet). */
  #start = 0;
  #len = 0;

  private constructor(
    readonly fd: number,
    readonly byteLength: number,
  ) {}

  static open(path: string): FileZipView {
    const fd = openSync(path, "r");
    try {
      return new FileZipView(fd, fstatSync(fd).size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** The window offset that holds [at, at + n), read from disk when it does not yet. */
  #at(at: number, n: number): number {
    if (at < 0 || at + n > this.byteLength)
      throw new RangeError(`offset ${at} (+${n}) is outside the ${this.byteLength}-byte zip`);
    if (at < this.#start || at + n > this.#start + this.#len) {
      // Centred on the read: the parser walks backwards (the EOCD search) and forwards alike.
      const start = Math.max(0, Math.min(at - WINDOW_BYTES / 2, this.byteLength - WINDOW_BYTES));
      const want = Math.min(WINDOW_BYTES, this.byteLength - start);
      let got = 0;
      while (got < want) {
        const r = readSync(this.fd, this.#buf, got, want - got, start + got);
        if (r === 0) break; // the file shrank under us: refused below
        got += r;
      }
      this.#start = start;
      this.#len = got;
      if (at + n > start + got) throw new RangeError(`offset ${at} (+${n}) could not be read`);
    }
    return at - this.#start;
  }

  getUint8(at: number): number {
    return this.#buf[this.#at(at, 1)]!;
  }

  getUint16(at: number, littleEndian: boolean): number {
    return this.#dv.getUint16(this.#at(at, 2), littleEndian);
  }

  getUint32(at: number, littleEndian: boolean): number {
    return this.#dv.getUint32(this.#at(at, 4), littleEndian);
  }

  getBigUint64(at: number, littleEndian: boolean): bigint {
    return this.#dv.getBigUint64(this.#at(at, 8), littleEndian);
  }
}
