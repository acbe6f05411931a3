/**
 * The canonical text of a day's rows, hashed with SHA-256 so two parties can compare their copies
 * without exchanging them (docs/completeness.md shows a DuckDB one-liner that reproduces it):
 *
 *   trades:     trade_id,price,quantity,trade_time_us,is_buyer_maker\n
 *   agg_trades: agg_trade_id,price,quantity,first_trade_id,last_trade_id,trade_time_us,is_buyer_maker\n
 *
 * one line per row, rows ascending by id; ids and µs times as plain integers; price and quantity
 * with exactly 8 decimals ("97123.45000000"); is_buyer_maker `true` or `false`; every line ends
 * with `\n` (an empty day hashes the empty string). Both the stored rows and the archive's rows
 * are hashed this way, so equal hashes mean equal rows.
 */
import { formatDecimal } from "../model/decimal.ts";

export type CertTable = "trades" | "agg_trades";
export const CERT_TABLES: readonly CertTable[] = ["trades", "agg_trades"];

/** SHA-256 over canonical lines, fed row by row. */
export class CanonicalHash {
  readonly #h = new Bun.CryptoHasher("sha256");
  #buf = "";
  rows = 0;

  constructor(readonly table: CertTable) {}

  /** `firstId`/`lastId` are ignored for trades. */
  add(
    id: number,
    price: bigint,
    qty: bigint,
    firstId: number,
    lastId: number,
    timeUs: number,
    buyerMaker: boolean,
  ): void {
    const mid = this.table === "agg_trades" ? `,${firstId},${lastId}` : "";
    this.#buf += `${id},${formatDecimal(price)},${formatDecimal(qty)}${mid},${timeUs},${buyerMaker}\n`;
    this.rows++;
    if (this.#buf.length > 1 << 20) {
      this.#h.update(this.#buf);
      this.#buf = "";
    }
  }

  hex(): string {
    this.#h.update(this.#buf);
    this.#buf = "";
    return this.#h.digest("hex");
  }
}
