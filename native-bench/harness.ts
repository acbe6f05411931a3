/**
 * The native-bench harness: every hot function is timed next to a baseline measured in the same
 * run, so the number that matters is a ratio that survives a noisy machine (see README.md).
 *
 * A case runs `fn(i)` `ops` times per round after a warm-up; we keep the best round's ns/op
 * (least disturbed by the other core) and the median for context.
 *
 * Bytes/op: JSC's heapStats().heapSize only moves at collections (it reads 0 B/op for JSON.parse),
 * so we read the allocator's committed bytes, bun:jsc memoryUsage().current, which grows as the
 * JS heap takes new blocks. After a full collection we run a round small enough that a collection
 * is unlikely to start inside it (ALLOC_ROUNDS ops) and take growth / ops; the median of three
 * rounds per size, the largest over sizes. Resolution is one 4 KiB page per round (≤ 1 B/op).
 * Then one full round (e.g. 1M frames) without collecting: zero-allocation code grows by ~0 there
 * too (`heap_growth_full_round`).
 */
import { memoryUsage } from "bun:jsc";

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
  /** Median round, ns/op (the best round is `ns_per_op`). */
  readonly median_ns_per_op?: number;
  /** Heap growth in bytes over one full round of `ops` without collecting. */
  readonly heap_growth_full_round?: number;
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

/** Small-round sizes for bytes/op (see the header comment). */
const ALLOC_ROUNDS = [4_000, 16_000];

function memAfterGc(): number {
  Bun.gc(true);
  return memoryUsage().current;
}

function bytesPerOp(fn: (i: number) => void): number {
  let worst = 0;
  for (const n of ALLOC_ROUNDS) {
    const reps: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const before = memAfterGc();
      for (let i = 0; i < n; i++) fn(i);
      reps.push(Math.max(0, memoryUsage().current - before) / n);
    }
    reps.sort((a, b) => a - b);
    if (reps[1]! > worst) worst = reps[1]!;
  }
  return worst;
}

export function runCase(c: BenchCase, rounds = 5): BenchResult {
  const fn = c.setup();
  // Warm-up: at least 200k calls and 300 ms, so every case (the suite's first one too) is timed
  // in the JIT's final tier rather than while it is still compiling.
  const warmUntil = Bun.nanoseconds() + 300e6;
  for (let i = 0; i < Math.min(c.ops, 200_000) || Bun.nanoseconds() < warmUntil; i++) fn(i);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < c.ops; i++) fn(i);
    times.push((Bun.nanoseconds() - t0) / c.ops);
  }
  times.sort((a, b) => a - b);
  const best = times[0]!;
  const bytes = bytesPerOp(fn);
  const before = memAfterGc();
  for (let i = 0; i < c.ops; i++) fn(i);
  const full = Math.max(0, memoryUsage().current - before);
  return {
    name: c.name,
    ops: c.ops,
    ns_per_op: best,
    ops_per_s: 1e9 / best,
    bytes_per_op: bytes,
    median_ns_per_op: times[Math.floor(times.length / 2)]!,
    heap_growth_full_round: full,
  };
}
