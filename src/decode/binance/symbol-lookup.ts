/**
 * Allocation-free symbol interning for the decoders: resolves the characters of a symbol inside a
 * frame (a range of the string or bytes) to its SymbolTable id without building a string.
 *
 * An open-addressing table (linear probing, load ≤ 1/4) keyed by a multiplicative hash of the
 * char codes, verified char by char against the stored name; for the fast paths a second table
 * (`view`) keyed by a symbol's first four bytes, verified a word at a time. Built from a
 * SymbolTable off the hot path; `refresh()` rebuilds both after the table grew.
 */
import { SYMBOL_RE, type SymbolTable } from "../../model/index.ts";
import { cc, type Src } from "./scan.ts";

/** Binance spot symbols are at most 20 characters (model SYMBOL_RE). */
const MAX_SYMBOL_LENGTH = 20;

function isSymbolChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

/** Multiplier of `mix`; scripts/gen-fast-decoders.ts writes the same hash inline. */
export const MIX_MULTIPLIER = 0x2c1b3c6d;

/** The table hash (the fast paths inline it for their first probe of `view`). */
export function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 15), MIX_MULTIPLIER);
  return h ^ (h >>> 12);
}

/** Int32s per record of SymbolLookup.view. */
export const VIEW_STRIDE = 8;

/** Whether the symbol of the record at `r` (its key already equal) is at `start` of `v`. */
function viewMatch(t: Int32Array, r: number, v: DataView, start: number): boolean {
  const n = t[r + 1]!;
  if (n < 4) return true; // the key covers the name and its quote
  if (v.getInt32(start + n - 3, true) !== t[r + 3]) return false;
  for (let k = 4; k < n - 3; k += 4) if (v.getInt32(start + k, true) !== t[r + 3 + k / 4]) return false;
  return true;
}

export class SymbolLookup {
  #table: SymbolTable;
  #size = -1;
  #mask = 0;
  /** Per hash slot: symbol id + 1 (0 = empty). */
  #slots = new Int32Array(0);
  /** Names concatenated as char codes; id i is chars[off[i] .. off[i] + len[i]). */
  #chars = new Uint8Array(0);
  #off = new Int32Array(0);
  #len = new Uint8Array(0);
  /**
   * For the fast paths (fast-*.ts inline the first probe, findView does the rest): per hash slot,
   * a record of VIEW_STRIDE int32s, keyed by the first four bytes of `name + '","'` (every fast
   * layout follows a symbol with `","`): [id + 1 (0 = empty), length n, key, the word at n - 3
   * (the name's last three characters and its closing quote; n ≥ 4), the words at 4, 8, 12, 16
   * (those below n - 3)]. Overlapping reads cover any length without masks.
   */
  view = new Int32Array(VIEW_STRIDE);
  /** Hash mask of `view` (slots - 1). */
  viewMask = 0;
  /**
   * Where the last `find` stopped: the closing quote when it returned an id or -1 after a
   * complete plain symbol; anything else means "take the slow path" (see fields.ts readSymbol).
   */
  stop = 0;

  constructor(table: SymbolTable) {
    this.#table = table;
    this.refresh();
  }

  /** Number of symbols the lookup knows. */
  get size(): number {
    return this.#size;
  }

  /** Rebuild when the SymbolTable has grown since the last build (cold path, allocates). */
  refresh(): void {
    const names = this.#table.names();
    if (names.length === this.#size) return;
    let cap = 16;
    while (cap < names.length * 4) cap *= 2;
    const slots = new Int32Array(cap);
    const off = new Int32Array(names.length);
    const len = new Uint8Array(names.length);
    let total = 0;
    for (const n of names) total += n.length;
    const chars = new Uint8Array(total);
    let at = 0;
    for (let id = 0; id < names.length; id++) {
      const n = names[id]!;
      if (!SYMBOL_RE.test(n)) throw new RangeError(`symbol ${JSON.stringify(n)} cannot be looked up`);
      off[id] = at;
      len[id] = n.length;
      let h = 0;
      for (let k = 0; k < n.length; k++) {
        chars[at++] = n.charCodeAt(k);
        h = (Math.imul(h, 31) + n.charCodeAt(k)) | 0;
      }
      let i = mix(h) & (cap - 1);
      while (slots[i] !== 0) i = (i + 1) & (cap - 1);
      slots[i] = id + 1;
    }
    this.#buildView(names, cap);
    this.#slots = slots;
    this.#chars = chars;
    this.#off = off;
    this.#len = len;
    this.#mask = cap - 1;
    this.#size = names.length;
  }

  /**
   * Id of the symbol whose characters start at `start` and end at the next '"', or -1. Sets
   * `stop` to the index where scanning ended (the quote, unless the text is not a plain symbol).
   */
  find(f: Src, start: number, end: number): number {
    let h = 0;
    let i = start;
    const limit = Math.min(end, start + MAX_SYMBOL_LENGTH + 1);
    let c = -1;
    for (; i < limit; i++) {
      c = cc(f, i);
      if (!isSymbolChar(c)) break;
      h = (Math.imul(h, 31) + c) | 0;
    }
    this.stop = i;
    if (i >= end || c !== 0x22 || i === start) return -1;
    const n = i - start;
    const slots = this.#slots;
    const mask = this.#mask;
    let s = mix(h) & mask;
    // Bounded: the table is at most 1/4 full, so an empty slot ends every probe sequence.
    for (let id = slots[s]! - 1; id >= 0; id = slots[s]! - 1) {
      if (this.#len[id] === n && this.#same(f, start, id, n)) return id;
      s = (s + 1) & mask;
    }
    return -1;
  }

  /**
   * `find` for the fast paths (fast-*.ts), on the scratch copy of the frame `v`: the symbol starts
   * at `start`; returns the id with `stop` at its closing quote, or -1. No character loop: one
   * int32 read keys the table and one per further four characters confirms the candidate
   * (native-bench "decode trade (combined)"). Reads at most 24 bytes from `start`.
   */
  findView(v: DataView, start: number): number {
    const key = v.getInt32(start, true);
    const t = this.view;
    const mask = this.viewMask;
    let s = mix(key) & mask;
    // Bounded: the table is at most 1/4 full, so an empty slot ends every probe sequence.
    for (let r = s * VIEW_STRIDE; t[r] !== 0; r = s * VIEW_STRIDE) {
      if (t[r + 2] === key && viewMatch(t, r, v, start)) {
        this.stop = start + t[r + 1]!;
        return t[r]! - 1;
      }
      s = (s + 1) & mask;
    }
    return -1;
  }

  #buildView(names: readonly string[], cap: number): void {
    const t = new Int32Array(cap * VIEW_STRIDE);
    const w = (text: string, i: number) =>
      text.charCodeAt(i) |
      (text.charCodeAt(i + 1) << 8) |
      (text.charCodeAt(i + 2) << 16) |
      (text.charCodeAt(i + 3) << 24);
    for (let id = 0; id < names.length; id++) {
      const n = names[id]!;
      const key = w(`${n}","`, 0);
      let s = mix(key) & (cap - 1);
      while (t[s * VIEW_STRIDE] !== 0) s = (s + 1) & (cap - 1);
      const r = s * VIEW_STRIDE;
      const q = `${n}"`;
      t[r] = id + 1;
      t[r + 1] = n.length;
      t[r + 2] = key;
      if (n.length >= 4) t[r + 3] = w(q, n.length - 3);
      for (let k = 4; k < n.length - 3; k += 4) t[r + 3 + k / 4] = w(q, k);
    }
    this.view = t;
    this.viewMask = cap - 1;
  }

  /** Id of a symbol given as a JS string (slow path, tests). */
  findText(text: string): number {
    const q = `${text}"`;
    return this.find(q, 0, q.length);
  }

  #same(f: Src, start: number, id: number, n: number): boolean {
    const o = this.#off[id]!;
    const chars = this.#chars;
    for (let k = 0; k < n; k++) if (chars[o + k] !== cc(f, start + k)) return false;
    return true;
  }
}
