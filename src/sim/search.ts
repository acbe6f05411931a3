/** The one binary search the simulator's histories share (book truth, trade history, klines). */

/** First index in [lo, hi) where `past(i)` holds, for a `past` that is false and then true along it. */
export function partitionPoint(lo: number, hi: number, past: (i: number) => boolean): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (past(mid)) b = mid;
    else a = mid + 1;
  }
  return a;
}
