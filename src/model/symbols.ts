/**
 * Symbols are interned to small integer ids (0..65535) so rows carry a Uint16 instead of a string.
 * The table is filled at start from configuration (and may grow off the hot path); the decoder
 * looks a symbol up from the frame's characters without allocating (see decode/binance).
 */
export const MAX_SYMBOLS = 65_536;
/** Binance spot symbols: upper-case letters and digits, 2–20 chars (config validates the same). */
export const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;

export class SymbolTable {
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];

  constructor(symbols: readonly string[] = []) {
    for (const s of symbols) this.intern(s);
  }

  /** Id of `symbol`, adding it when new. Throws on an invalid name or a full table. */
  intern(symbol: string): number {
    const known = this.#ids.get(symbol);
    if (known !== undefined) return known;
    if (!SYMBOL_RE.test(symbol)) throw new RangeError(`invalid symbol ${JSON.stringify(symbol)}`);
    if (this.#names.length >= MAX_SYMBOLS) throw new RangeError("symbol table full");
    const id = this.#names.length;
    this.#names.push(symbol);
    this.#ids.set(symbol, id);
    return id;
  }

  id(symbol: string): number | undefined {
    return this.#ids.get(symbol);
  }

  name(id: number): string {
    const n = this.#names[id];
    if (n === undefined) throw new RangeError(`unknown symbol id ${id}`);
    return n;
  }

  get size(): number {
    return this.#names.length;
  }

  names(): readonly string[] {
    return this.#names;
  }
}
