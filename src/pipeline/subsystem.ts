/**
 * A subsystem is one part of a K2 process — source, ingest, storage, maintenance, query — with
 * its own start, stop and readiness. A role (src/pipeline/index.ts: everything in one process)
 * is the list of subsystems it runs and the order they stop in.
 */
import type { Check, Readiness } from "../resilience/readiness.ts";

export interface Subsystem {
  readonly name: string;
  /** The readiness checks it answers for, by check name (see /health/ready). */
  readonly checks: Readonly<Record<string, Check>>;
  start(): void;
  /** Stop working and release what it holds; idempotent. */
  stop(): Promise<void>;
}

export function registerChecks(readiness: Readiness, ...parts: readonly Subsystem[]): void {
  for (const p of parts)
    for (const [name, check] of Object.entries(p.checks)) readiness.register(name, check);
}

/** Intervals a subsystem owns; cleared together when it stops. */
export class Timers {
  readonly #timers: ReturnType<typeof setInterval>[] = [];

  every(ms: number, fn: () => void): void {
    this.#timers.push(setInterval(fn, ms));
  }

  clear(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
  }
}

/** Runs `fn` once, however often the result is asked for (stop() is idempotent through this). */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= fn();
    return p;
  };
}
