/**
 * The simulator and K2 processes one test starts, stopped after it whatever happened: K2 killed
 * by pid (after a graceful stop when asked) with its temp data folder removed, then anything the
 * test registered, then the simulator. One place for what every process test's afterEach did.
 */
import { afterEach } from "bun:test";
import { rmSync } from "node:fs";
import type { Simulator } from "../../src/sim/index.ts";
import type { K2Process } from "./k2-process.ts";

export interface ProcessFixture {
  sim: Simulator | undefined;
  k2: K2Process | undefined;
  /** Run after the test (before the simulator stops): extra processes, servers. */
  onCleanup(fn: () => void | Promise<void>): void;
  /** A folder to remove after the test (one a second K2 was handed with K2_DATA_DIR). */
  removeAfter(dir: string): void;
}

/** `graceful`: SIGTERM K2 and wait for it before the kill (tests whose K2 must flush first). */
export function processFixture(o: { graceful?: boolean } = {}): ProcessFixture {
  const later: (() => void | Promise<void>)[] = [];
  const f: ProcessFixture = {
    sim: undefined,
    k2: undefined,
    onCleanup: (fn) => later.push(fn),
    removeAfter: (dir) => later.push(() => rmSync(dir, { recursive: true, force: true })),
  };
  afterEach(async () => {
    const k2 = f.k2;
    f.k2 = undefined;
    if (o.graceful) await k2?.stop();
    k2?.cleanup();
    for (const fn of later.splice(0)) await fn();
    const sim = f.sim;
    f.sim = undefined;
    await sim?.stop();
  });
  return f;
}
