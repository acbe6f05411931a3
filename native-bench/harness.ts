/**
 * The native-bench harness: every hot function is timed next to a baseline measured in the same
 * run, so the number that matters is a ratio that survives a noisy machine (see README.md).
 *
 * A case runs `fn(i)` `ops` times per round after a warm-up; we keep the best round's ns/op
 * (least disturbed by the other core) and measure heap growth over one full round with
 * `Bun.gc(true)` before and after.
 */
import { heapStats } from "bun:jsc";

export interface BenchCase {
  /** Row label, e.g. "decode trade (combined)". */
  readonly name: string;
  /** Operations per round; one op = one frame / one push+pop. */
  readonly ops: number;
  /** Called once before timing; returns the per-op function. */
  readonly setup: () => (i: number) => void;
}

export interface BenchResult {
  readonly name: string;
  readonly ops: number;
  readonly ns_per_op: number;
  readonly ops_per_s: number;
  readonly bytes_per_op: number;
}

export interface BenchSuite {
  /** Suite title, e.g. "decode". */
  readonly title: string;
  /** The measured cases and, per case, the names of baseline cases to report ratios against. */
  readonly cases: readonly BenchCase[];
  readonly ratios: readonly {
    readonly subject: string;
    readonly baseline: string;
    readonly target?: number;
  }[];
}

function heapBytes(): number {
  Bun.gc(true);
  return heapStats().heapSize;
}

export function runCase(c: BenchCase, rounds = 5): BenchResult {
  const fn = c.setup();
  for (let i = 0; i < Math.min(c.ops, 200_000); i++) fn(i); // warm-up: let the JIT settle
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < c.ops; i++) fn(i);
    const ns = (Bun.nanoseconds() - t0) / c.ops;
    if (ns < best) best = ns;
  }
  const before = heapBytes();
  for (let i = 0; i < c.ops; i++) fn(i);
  // Measure growth before collecting: what a round allocated and left reachable, plus garbage.
  const after = heapStats().heapSize;
  const bytes = Math.max(0, after - before) / c.ops;
  return { name: c.name, ops: c.ops, ns_per_op: best, ops_per_s: 1e9 / best, bytes_per_op: bytes };
}
