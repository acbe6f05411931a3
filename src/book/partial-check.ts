/**
 * The free consistency check Binance's partial-depth streams give (`<symbol>@depth20@100ms`:
 * lastUpdateId + the top levels): at the same update id, the local book's top levels must equal
 * them. Levels the book does not know exactly (beyond the snapshot, or unverified) are not
 * compared — they are the book's own admission, not a fault; the comparison stops at the first.
 */
import type { DepthFrame, DepthSide } from "../decode/binance/index.ts";
import type { OrderBook } from "./book.ts";
import { type BookLevels, LEVEL_EXACT } from "./side.ts";

/** null when the book agrees with the partial-depth frame, else why not (a cold path). */
export function checkAgainstPartial(
  book: OrderBook,
  f: DepthFrame,
  bids: BookLevels,
  asks: BookLevels,
): string | null {
  book.top(Math.max(f.bids.n, f.asks.n), bids, asks);
  return sideDiffers("bids", f.bids, bids) ?? sideDiffers("asks", f.asks, asks);
}

function sideDiffers(name: string, want: DepthSide, have: BookLevels): string | null {
  for (let k = 0; k < want.n; k++) {
    if (k >= have.n) return `${name}: the stream has ${want.n} levels, the book ${have.n}`;
    if (have.state[k] !== LEVEL_EXACT) return null;
    const same =
      want.pxw[2 * k] === have.pxw[2 * k] &&
      want.pxw[2 * k + 1] === have.pxw[2 * k + 1] &&
      want.qtyw[2 * k] === have.qtyw[2 * k] &&
      want.qtyw[2 * k + 1] === have.qtyw[2 * k + 1];
    if (!same)
      return `${name} level ${k}: stream ${want.price(k)}×${want.quantity(k)}, book ${have.price(k)}×${have.quantity(k)} (1e-8 units)`;
  }
  return null;
}
