/** "Did you mean": the nearest of a few short names, for mistyped flags and query parameters. */

/** Edit distance: names are short (≤ 30), so the quadratic table is fine. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The one candidate within two edits (case ignored) of `given`, if exactly one is closest. */
export function nearest(given: string, candidates: readonly string[]): string | undefined {
  const g = given.toLowerCase();
  let best: string | undefined;
  let bestD = 3;
  let tie = false;
  for (const c of candidates) {
    const d = distance(g, c.toLowerCase());
    if (d < bestD) [best, bestD, tie] = [c, d, false];
    else if (d === bestD) tie = true;
  }
  return tie ? undefined : best;
}
