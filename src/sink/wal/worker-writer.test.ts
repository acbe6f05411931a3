/**
 * The worker path's own cases (writer.test.ts runs the shared ones on both paths): faults
 * injected inside the worker (setFaults), the two-halves bound, durableSeq only after fsync,
 * records bigger than a half, and a Worker that never keeps its process alive.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { SinkError } from "./errors.ts";
import { readWal } from "./reader.ts";
import { frameFor, tempDir } from "./testdata/fixtures.ts";
import { WorkerWalWriter } from "./worker-writer.ts";

let dir = "";
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir("walw"));
});
afterEach(() => cleanup());

/** Wait (bounded) until `ok()`; the worker reports through shared memory and messages. */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !ok(); i++) await Bun.sleep(5);
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

describe("WorkerWalWriter", () => {
  test("durableSeq moves only with an fsync: written first, durable at the interval or sync()", async () => {
    const w = WorkerWalWriter.open({ dir, fsyncIntervalMs: 60_000 });
    expect(w.append("a", 1, 0)).toBe(1);
    expect(await w.sync()).toBe(1); // the fsync is over: nothing in flight to land later
    expect(w.append("b", 2, 0)).toBe(2);
    w.flush();
    await until(() => w.status().writtenSeq === 2, "the write of seq 2");
    await Bun.sleep(30);
    expect(w.durableSeq()).toBe(1); // written, not yet fsynced: the next fsync is 60 s away
    expect(await w.sync()).toBe(2);
    expect(w.durableSeq()).toBe(2);
    await w.close();
  });

  test("ENOSPC in the worker: reported once, both halves fill, append refuses, nothing lost", async () => {
    const errors: SinkError[] = [];
    const w = WorkerWalWriter.open({
      dir,
      bufferBytes: 8192,
      fsyncIntervalMs: 0,
      onError: (e) => errors.push(e),
    });
    const accepted: number[] = [];
    for (let i = 0; i < 10; i++) accepted.push(w.append(frameFor(accepted.length + 1), 1, 0));
    await w.sync();
    await w.setFaults({ writeBudget: 500 }); // a short write, then ENOSPC
    let refused = false;
    for (let i = 0; i < 1000 && !refused; i++) {
      const seq = w.append(frameFor(accepted.length + 1), 1, 0);
      if (seq === -1) refused = true;
      else accepted.push(seq);
      w.flush();
    }
    expect(refused).toBe(true);
    const st = w.status();
    // More than a half is held back (the first half began with records already written).
    expect(st.bufferedBytes).toBeGreaterThan(4096);
    expect(st.bufferedBytes).toBeLessThanOrEqual(8192);
    expect(w.flush()).toBe(false);
    await until(() => w.lastError?.op === "write", "the write error message");
    expect(w.lastError).toMatchObject({ kind: "no_space", retryable: true, op: "write", code: "ENOSPC" });
    expect(st.writeErrors).toBeGreaterThanOrEqual(1);
    await Bun.sleep(30); // the worker retries every tick: still one report per condition
    expect(errors.map((e) => `${e.op}:${e.kind}`).sort()).toEqual(["append:buffer_full", "write:no_space"]);
    expect(w.durableSeq()).toBeLessThan(accepted[accepted.length - 1]!);

    await w.setFaults({ writeBudget: Number.POSITIVE_INFINITY }); // space freed: the retry lands
    await until(() => w.lastError === null && w.status().writtenSeq === accepted.at(-1), "the retry");
    expect(w.flush()).toBe(true);
    const next = w.append(frameFor(accepted.length + 1), 1, 0);
    expect(next).toBe(accepted.at(-1)! + 1);
    accepted.push(next);
    expect(await w.close()).toBe(next);
    const recs = [...readWal(dir)];
    expect(recs.map((r) => r.seq)).toEqual(accepted);
    for (const r of recs) expect(r.payload).toBe(frameFor(r.seq));
  });

  test("fsync failure in the worker: durableSeq holds, error reported, next fsync advances it", async () => {
    const w = WorkerWalWriter.open({ dir, fsyncIntervalMs: 0 });
    await w.setFaults({ fsyncError: "EIO" });
    w.append("a", 1, 0);
    expect(await w.sync()).toBe(0);
    await until(() => w.lastError !== null, "the fsync error message");
    expect(w.lastError).toMatchObject({ kind: "io", op: "fsync", retryable: true });
    expect(w.status().fsyncErrors).toBeGreaterThanOrEqual(1);
    await w.setFaults({ fsyncError: null });
    expect(await w.sync()).toBe(1);
    expect(w.lastError).toBeNull();
    await w.close();
  });

  test("a record bigger than a half travels alone, in order, and waits out a failing disk", async () => {
    const w = WorkerWalWriter.open({ dir, bufferBytes: 4096 });
    const big = `{"big":"${"€".repeat(5000)}"}`;
    expect(w.append("small", 1, 0)).toBe(1);
    expect(w.append(big, 2, 1)).toBe(2);
    expect(w.append("mid", 3, 0)).toBe(3);
    await w.sync();
    await w.setFaults({ writeBudget: 3000 }); // part of the next big record lands, then ENOSPC
    expect(w.append(big, 4, 1)).toBe(4);
    expect(w.append(big, 5, 1)).toBe(-1); // one big record at a time while it is pending
    await until(() => w.lastError?.kind === "no_space", "the write error");
    await w.setFaults({ writeBudget: Number.POSITIVE_INFINITY });
    expect(w.append("tail", 6, 0)).toBe(5);
    await w.close();
    expect([...readWal(dir)].map((r) => [r.seq, r.payload])).toEqual([
      [1, "small"],
      [2, big],
      [3, "mid"],
      [4, big],
      [5, "tail"],
    ]);
  });

  test("the worker never keeps a process alive, and close() keeps it up until the reply", async () => {
    const script = join(import.meta.dir, "testdata", "unclosed-child.ts");
    for (const mode of ["unclosed", "closed"]) {
      const sub = join(dir, mode);
      const child = Bun.spawn([process.execPath, script, sub, mode], { stdout: "pipe", stderr: "pipe" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await child.exited;
      clearTimeout(timer);
      expect(await new Response(child.stderr).text()).toBe("");
      expect(code).toBe(0); // it ended by itself, not by the timer's SIGKILL
      expect(await new Response(child.stdout).text()).toBe(
        mode === "closed" ? "durable 3\n" : "appended 3\n",
      );
    }
    expect([...readWal(join(dir, "closed"))].map((r) => r.payload)).toEqual([
      "closed-1",
      "closed-2",
      "closed-3",
    ]);
  });
});
