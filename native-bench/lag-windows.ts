/**
 * Event-loop lag p99 over windows that lie wholly inside a run, from a lag histogram's cumulative
 * counts read at instants through it (K2's nodejs_eventloop_lag_seconds, src/obs/process.ts).
 * Why not the p99 gauge polled once a second: its window also holds what came before the run
 * (a K2 started moments earlier: idle samples), and while it holds fewer than 100 samples, its
 * "p99" is their maximum, so the first second of a run read as the worst of all. Here each window
 * is the histogram's difference between two readings `windowMs` apart, both inside the run.
 * The answer is a bucket's upper bound: "p99 ≤ that", exact against a target on a bucket edge.
 */

/** The histogram's cumulative counts (one per bucket, +Inf last) read at one instant. */
export interface LagReading {
  readonly atMs: number;
  readonly cum: readonly number[];
}

export interface LagWindows {
  /** Windows measured (readings `windowMs` apart, or the whole run when it is shorter). */
  readonly windows: number;
  /** The worst window's p99, as the upper bound of its bucket (ms; Infinity: over the last bound). */
  readonly worstP99UpToMs: number;
  /** The worst window's start, seconds after the first reading. */
  readonly worstStartS: number;
  /** Fewest samples in a window. */
  readonly minSamples: number;
}

/** Readings a second apart land a few ms off: a window may be this much shorter than asked. */
const SLACK_MS = 250;

/** Rank of the q-quantile among n samples, 1-based: the same as LoopLagMonitor.quantile. */
const rankOf = (q: number, n: number) => Math.min(n, Math.floor(q * n) + 1);

export function lagWindows(
  boundsS: readonly number[],
  readings: readonly LagReading[],
  windowMs = 10_000,
  q = 0.99,
): LagWindows | undefined {
  if (readings.length < 2) return undefined;
  const pairs: [LagReading, LagReading][] = [];
  let i = 0;
  for (let j = 1; j < readings.length; j++) {
    const end = readings[j]!;
    while (i + 1 < j && end.atMs - readings[i + 1]!.atMs >= windowMs - SLACK_MS) i++;
    if (end.atMs - readings[i]!.atMs >= windowMs - SLACK_MS) pairs.push([readings[i]!, end]);
  }
  if (pairs.length === 0) pairs.push([readings[0]!, readings[readings.length - 1]!]);
  let worst = -1;
  let worstStartS = 0;
  let minSamples = Number.POSITIVE_INFINITY;
  for (const [a, b] of pairs) {
    const n = b.cum[boundsS.length]! - a.cum[boundsS.length]!;
    minSamples = Math.min(minSamples, n);
    if (n <= 0) continue;
    const rank = rankOf(q, n);
    let k = 0;
    while (k < boundsS.length && b.cum[k]! - a.cum[k]! < rank) k++;
    const upTo = k < boundsS.length ? boundsS[k]! * 1000 : Number.POSITIVE_INFINITY;
    if (upTo > worst) {
      worst = upTo;
      worstStartS = (a.atMs - readings[0]!.atMs) / 1000;
    }
  }
  return { windows: pairs.length, worstP99UpToMs: Math.max(0, worst), worstStartS, minSamples };
}
