import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import type { SinkError } from "./errors.ts";
import { segmentName, WalTag } from "./format.ts";
import { nodeSinkFs } from "./fs.ts";
import { readWal, type WalRecord } from "./reader.ts";
import { FaultyFs, frameFor, tempDir } from "./testdata/fixtures.ts";
import { WalWriter, type WalWriterOptions } from "./writer.ts";

let dir = "";
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir("wal"));
});
afterEach(() => cleanup());

const all = (d = dir): WalRecord[] => [...readWal(d)];

/**
 * flush(), and on the worker path wait (bounded) until the worker has written it: its ticks
 * pick up hand-overs, so flushes close together share one write and one rotation check.
 */
async function written(w: WalWriter): Promise<void> {
  w.flush();
  const want = w.status().nextSeq - 1;
  for (let i = 0; i < 400 && w.status().writtenSeq < want; i++) await Bun.sleep(1);
  expect(w.status().writtenSeq).toBe(want);
}
const segmentFiles = () => readdirSync(dir).filter((n) => n.endsWith(".wal"));

// The same behaviour from both paths (writer.ts): the default one with its Worker, and inline.
for (const path of ["worker", "inline"] as const) {
  const open = (o: WalWriterOptions) => WalWriter.open({ ...o, inline: path === "inline" });
  describe(`WalWriter (${path} path)`, () => {
    test("round trip across segment rotations, byte-exact payloads and fields", async () => {
      const w = open({ dir, segmentMaxBytes: 4096, bufferBytes: 4096, fsyncIntervalMs: 0 });
      const N = 3000;
      for (let i = 1; i <= N; i++) {
        expect(
          w.append(frameFor(i), 1_700_000_000_000_000 + i, i % 2 ? WalTag.ws_text : WalTag.rest_synthetic),
        ).toBe(i);
        if (i % 37 === 0) w.flush();
      }
      expect(w.append("", 5, 7)).toBe(N + 1); // an empty frame is a valid record
      expect(await w.close()).toBe(N + 1);
      expect(segmentFiles().length).toBeGreaterThan(20);
      const recs = all();
      expect(recs.length).toBe(N + 1);
      for (let i = 1; i <= N; i++) {
        const r = recs[i - 1]!;
        expect(r.seq).toBe(i);
        expect(r.payload).toBe(frameFor(i));
        expect(r.recvTimeUs).toBe(1_700_000_000_000_000 + i);
        expect(r.tag).toBe(i % 2 ? 0 : 1);
      }
      expect(recs[N]).toEqual({ seq: N + 1, recvTimeUs: 5, tag: 7, payload: "" });
    });

    test("segment file names are the first seq of each segment, in order", async () => {
      const w = open({ dir, segmentMaxBytes: 2048, bufferBytes: 4096 });
      for (let i = 1; i <= 200; i++) {
        w.append(frameFor(i), i, 0);
        if (i % 10 === 0) await written(w);
        else w.flush();
      }
      await w.close();
      const names = segmentFiles().sort();
      const firsts = names.map((n) => Number(n.slice(0, 20)));
      const recs = all();
      expect(recs.length).toBe(200);
      // The active segment may be empty (a rotation after the last write, which the worker's
      // timer can do): its name is then the next seq.
      if (firsts.at(-1) === 201) firsts.pop();
      expect(firsts.length).toBeGreaterThan(1);
      for (const f of firsts) expect(recs.some((r) => r.seq === f)).toBe(true);
      for (let k = 1; k < firsts.length; k++) expect(firsts[k]!).toBeGreaterThan(firsts[k - 1]!);
      expect(names[0]).toBe(segmentName(1));
    });

    test("seq continues across reopen, and after close without new appends", async () => {
      let w = open({ dir });
      for (let i = 0; i < 10; i++) w.append(`a${i}`, i, 0);
      await w.close();
      w = open({ dir });
      expect(w.recovery.nextSeq).toBe(11);
      expect(w.durableSeq()).toBe(10);
      expect(w.append("b", 1, 0)).toBe(11);
      await w.close();
      w = open({ dir });
      await w.close();
      w = open({ dir });
      expect(w.append("c", 1, 0)).toBe(12);
      await w.close();
      expect(all().map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    });

    test("deleteUpTo removes only whole segments at or below seq, never the active one", async () => {
      const w = open({ dir, segmentMaxBytes: 1024, bufferBytes: 4096 });
      // ~300-byte frames, each written before the next: a segment every few records.
      for (let i = 1; i <= 40; i++) {
        w.append(`${"y".repeat(300)}${i}`, i, 0);
        await written(w);
      }
      await w.sync();
      const firsts = segmentFiles()
        .sort()
        .map((n) => Number(n.slice(0, 20)));
      expect(firsts.length).toBeGreaterThan(5);
      const second = firsts[1]!;
      // seq just below the second segment's first seq − 1: the first segment still has a record above it
      expect(w.deleteUpTo(second - 2)).toBe(0);
      await w.deletions();
      expect(segmentFiles().length).toBe(firsts.length);
      expect(w.deleteUpTo(second - 1)).toBe(1);
      await w.deletions();
      expect(existsSync(`${dir}/${segmentName(firsts[0]!)}`)).toBe(false);
      expect(all()[0]!.seq).toBe(second);
      // Everything: all but the active segment go, and appends continue in it.
      expect(w.deleteUpTo(Number.MAX_SAFE_INTEGER)).toBe(firsts.length - 2);
      await w.deletions();
      expect(segmentFiles()).toEqual([segmentName(firsts[firsts.length - 1]!)]);
      expect(w.status().segments).toBe(1);
      expect(w.append("after", 1, 0)).toBe(41);
      await w.close();
      const recs = all();
      expect(recs[recs.length - 1]!.payload).toBe("after");
      expect(recs[0]!.seq).toBe(firsts[firsts.length - 1]!);
    });

    test("retire closes and deletes every segment, the active one too; a new writer starts empty", async () => {
      const w = open({ dir, segmentMaxBytes: 4096, bufferBytes: 4096, fsyncIntervalMs: 0 });
      // Written in steps, each awaited: the worker path rotates as it writes, on its own thread,
      // so a bare flush() may find the writes (and the rotations) still to come (a fresh CI did).
      for (let i = 1; i <= 500; i++) {
        w.append(frameFor(i), i, WalTag.ws_text);
        if (i % 50 === 0) await written(w);
      }
      expect(segmentFiles().length).toBeGreaterThan(2);
      await w.retire();
      expect(segmentFiles()).toEqual([]);
      expect(w.append(frameFor(501), 501, WalTag.ws_text)).toBeLessThan(0); // closed
      const next = open({ dir, fsyncIntervalMs: 0 });
      expect(next.recovery.lastSeq).toBe(0);
      await next.close();
      expect(all()).toEqual([]);
    });

    test("a frame over MAX_PAYLOAD_BYTES is refused as too_large", async () => {
      const w = open({ dir });
      expect(w.append("x".repeat(32 * 1024 * 1024 + 1), 1, 0)).toBe(-1);
      expect(w.lastError).toMatchObject({ kind: "too_large", retryable: false, op: "append" });
      expect(w.append("ok", 1, 0)).toBe(1);
      await w.close();
      expect(all().length).toBe(1);
    });

    test("the optional timer flushes and fsyncs without the owner", async () => {
      const w = open({ dir, flushIntervalMs: 2, fsyncIntervalMs: 0 });
      w.append("timed", 1, 0);
      for (let i = 0; i < 200 && w.durableSeq() < 1; i++) await Bun.sleep(5);
      expect(w.durableSeq()).toBe(1);
      await w.close();
    });

    test("appendBytes: ranges inside bigger buffers read back as append's records, across rotations", async () => {
      const w = open({ dir, segmentMaxBytes: 4096, bufferBytes: 4096, fsyncIntervalMs: 0 });
      const N = 500;
      for (let i = 1; i <= N; i++) {
        // Each frame between other bytes, as a frame sits in a socket's chunk; every third one
        // larger than the buffer's free room, so it flushes first.
        const frame = i % 3 ? frameFor(i) : `${frameFor(i)}${"z".repeat(1000)}`;
        const chunk = Buffer.from(`<<${frame}>>`, "utf8");
        expect(w.appendBytes(chunk, 2, chunk.length - 2, 1_700_000_000_000_000 + i, i % 2)).toBe(i);
        if (i % 29 === 0) w.flush();
      }
      const big = Buffer.from(`[${"€".repeat(3000)}]`, "utf8"); // over the buffer: the one-off path
      expect(w.appendBytes(big, 0, big.length, 9, 0)).toBe(N + 1);
      expect(await w.close()).toBe(N + 1);
      const recs = all();
      expect(recs.length).toBe(N + 1);
      for (let i = 1; i <= N; i++)
        expect(recs[i - 1]).toEqual({
          seq: i,
          recvTimeUs: 1_700_000_000_000_000 + i,
          tag: i % 2,
          payload: i % 3 ? frameFor(i) : `${frameFor(i)}${"z".repeat(1000)}`,
        });
      expect(recs[N]?.payload).toBe(big.toString("utf8"));
    });

    test("append after close is refused", async () => {
      const w = open({ dir });
      await w.close();
      expect(w.append("late", 1, 0)).toBe(-1);
      expect(w.appendBytes(Buffer.from("late"), 0, 4, 1, 0)).toBe(-1);
      expect(w.lastError?.kind).toBe("closed");
    });

    test("bad options fail at open with the name and the bound", () => {
      expect(() => open({ dir, bufferBytes: 10 })).toThrow("bufferBytes must be an integer ≥ 4096");
    });
  });
}

// Injected fs / clock: these take the inline path (worker-writer.test.ts has the worker's).
describe("WalWriter (inline path, injected fs or clock)", () => {
  test("fsync at most once per interval; durableSeq trails writtenSeq until it lands", async () => {
    const fs = new FaultyFs();
    let now = 0;
    const w = WalWriter.open({ dir, fs, fsyncIntervalMs: 100, nowMs: () => now });
    const opened = fs.fsyncs; // open fsyncs the recovered segment
    for (let t = 0; t < 100; t += 10) {
      now = t;
      w.append(frameFor(t), t, 0);
      w.flush();
    }
    expect(fs.fsyncs - opened).toBe(1);
    expect(w.status().writtenSeq).toBe(10);
    expect(w.durableSeq()).toBeLessThanOrEqual(1);
    now = 100;
    await Bun.sleep(0);
    await w.sync();
    expect(w.durableSeq()).toBe(10);
    await w.close();
  });

  test("a failed segment deletion is reported, keeps the oldest on disk, and is retried by the next deleteUpTo", async () => {
    const fs = new FaultyFs();
    const errors: SinkError[] = [];
    const w = WalWriter.open({ dir, fs, segmentMaxBytes: 1024, onError: (e) => errors.push(e) });
    for (let i = 1; i <= 20; i++) {
      w.append(`${"z".repeat(300)}${i}`, i, 0);
      w.flush();
    }
    const firsts = segmentFiles().sort();
    expect(firsts.length).toBeGreaterThan(4);
    fs.unlinkError = "EIO";
    expect(w.deleteUpTo(Number.MAX_SAFE_INTEGER)).toBe(firsts.length - 1);
    await w.deletions();
    // Nothing went: the oldest failed and the rest wait behind it, so the files stay a suffix.
    expect(segmentFiles().sort()).toEqual(firsts);
    expect(w.status().segments).toBe(firsts.length);
    expect(errors.map((e) => [e.op, e.kind])).toEqual([["delete", "io"]]);
    expect(w.lastError?.message).toContain(firsts[0]!);
    fs.unlinkError = null;
    expect(w.deleteUpTo(Number.MAX_SAFE_INTEGER)).toBe(0); // nothing new to take; the line is retried
    await w.deletions();
    expect(segmentFiles()).toEqual([firsts[firsts.length - 1]!]);
    expect(w.status().segments).toBe(1);
    expect(w.lastError).toBeNull(); // the deletion recovered
    expect(w.append("after", 1, 0)).toBe(21);
    await w.close();
    const active = Number(firsts[firsts.length - 1]!.slice(0, 20));
    const recs = all();
    expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: 22 - active }, (_, i) => active + i));
    expect(recs[recs.length - 1]!.payload).toBe("after");
  });

  test("the folder's fsync after deletions runs on the pool, and deletions() waits for it and for segments that join meanwhile", async () => {
    const fs = new FaultyFs();
    let syncDirCalls = 0;
    const held: (() => void)[] = [];
    fs.fsyncDir = (d) => {
      syncDirCalls++;
      nodeSinkFs.fsyncDir(d);
    };
    fs.fsyncDirAsync = (d, done) => {
      held.push(() => nodeSinkFs.fsyncDirAsync(d, done));
    };
    const heldOne = async () => {
      for (let i = 0; i < 400 && held.length === 0; i++) await Bun.sleep(1);
      expect(held.length).toBe(1);
      return held.pop()!;
    };
    const w = WalWriter.open({ dir, fs, segmentMaxBytes: 1024 });
    const fill = (from: number) => {
      for (let i = from; i < from + 10; i++) {
        w.append(`${"z".repeat(300)}${i}`, i, 0);
        w.flush();
      }
    };
    fill(1);
    const beforeDeletion = syncDirCalls; // rotations fsync the folder at once (their records wait on it)
    w.deleteUpTo(Number.MAX_SAFE_INTEGER);
    let finished = false;
    void w.deletions().then(() => {
      finished = true;
    });
    const first = await heldOne();
    expect(segmentFiles()).toHaveLength(1);
    expect(syncDirCalls).toBe(beforeDeletion); // never the event loop's own fsync
    fill(11); // more segments, taken out while the folder's fsync runs
    const rotations = syncDirCalls;
    expect(w.deleteUpTo(Number.MAX_SAFE_INTEGER)).toBeGreaterThan(0);
    await Bun.sleep(5);
    expect(finished).toBe(false);
    first();
    const second = await heldOne(); // the newcomers were deleted in the same run, then fsynced
    expect(segmentFiles()).toHaveLength(1);
    expect(syncDirCalls).toBe(rotations);
    expect(finished).toBe(false);
    second();
    await w.deletions();
    expect(finished).toBe(true);
    expect(w.status().segments).toBe(1);
    await w.close();
  });

  test("rotation by age: a segment older than segmentMaxAgeMs is sealed at the next flush", async () => {
    let now = 0;
    const w = WalWriter.open({ dir, segmentMaxAgeMs: 1000, nowMs: () => now });
    w.append("a", 1, 0);
    w.flush();
    now = 999;
    w.flush();
    expect(w.status().segments).toBe(1);
    now = 1000;
    w.flush();
    expect(w.status().segments).toBe(2);
    now = 5000;
    w.flush(); // an empty segment is never rotated, however old
    expect(w.status().segments).toBe(2);
    expect(w.append("b", 2, 0)).toBe(2);
    await w.close();
    expect(segmentFiles().sort()).toEqual([segmentName(1), segmentName(2)]);
    expect(all().map((r) => r.payload)).toEqual(["a", "b"]);
  });

  test("ENOSPC: errors reported once, append refuses when the buffer is full, nothing lost", async () => {
    const fs = new FaultyFs();
    const errors: SinkError[] = [];
    const w = WalWriter.open({
      dir,
      fs,
      bufferBytes: 4096,
      fsyncIntervalMs: 0,
      onError: (e) => errors.push(e),
    });
    const accepted: number[] = [];
    for (let i = 0; i < 10; i++) accepted.push(w.append(frameFor(accepted.length + 1), 1, 0));
    expect(w.flush()).toBe(true);
    fs.writeBudget = 500; // a little room, then ENOSPC: the first flush is a short write
    let refusedAt = -1;
    for (let i = 0; i < 1000 && refusedAt < 0; i++) {
      const seq = w.append(frameFor(accepted.length + 1), 1, 0);
      if (seq === -1) refusedAt = i;
      else accepted.push(seq);
      w.flush();
    }
    expect(refusedAt).toBeGreaterThan(0);
    expect(w.flush()).toBe(false);
    const st = w.status();
    expect(st.refused).toBe(1);
    expect(st.bufferedBytes).toBeGreaterThan(3000);
    expect(w.lastError).toMatchObject({ kind: "no_space", retryable: true, op: "write", code: "ENOSPC" });
    // one report for the write failure and one for the refusals, not one per retry
    expect(errors.map((e) => `${e.op}:${e.kind}`)).toEqual(["write:no_space", "append:buffer_full"]);
    expect(w.durableSeq()).toBeLessThan(accepted[accepted.length - 1]!);

    fs.writeBudget = Number.POSITIVE_INFINITY; // space freed
    expect(w.flush()).toBe(true);
    expect(w.lastError).toBeNull();
    const next = w.append(frameFor(accepted.length + 1), 1, 0);
    expect(next).toBe(accepted[accepted.length - 1]! + 1);
    accepted.push(next);
    expect(await w.close()).toBe(next);
    const recs = all();
    expect(recs.map((r) => r.seq)).toEqual(accepted);
    for (const r of recs) expect(r.payload).toBe(frameFor(r.seq));
  });

  test("a frame larger than the buffer goes through the one-off path; on failure it is refused cleanly", async () => {
    const fs = new FaultyFs();
    const w = WalWriter.open({ dir, fs, bufferBytes: 4096 });
    const big = `{"big":"${"€".repeat(5000)}"}`;
    expect(w.append("small", 1, 0)).toBe(1);
    expect(w.append(big, 2, 1)).toBe(2);
    fs.writeBudget = 3000; // part of the next big record lands, then ENOSPC
    expect(w.append(big, 3, 1)).toBe(-1);
    expect(w.lastError?.kind).toBe("no_space");
    fs.writeBudget = Number.POSITIVE_INFINITY;
    expect(w.append("tail", 4, 0)).toBe(3);
    await w.close();
    expect(all().map((r) => [r.seq, r.payload])).toEqual([
      [1, "small"],
      [2, big],
      [3, "tail"],
    ]);
  });

  test("fsync failure: durableSeq holds, error reported, next fsync advances it", async () => {
    const fs = new FaultyFs();
    const w = WalWriter.open({ dir, fs, fsyncIntervalMs: 0 });
    w.append("a", 1, 0);
    fs.fsyncError = "EIO";
    expect(await w.sync()).toBe(0);
    expect(w.lastError).toMatchObject({ kind: "io", op: "fsync", retryable: true });
    expect(w.status().fsyncErrors).toBeGreaterThanOrEqual(1);
    fs.fsyncError = null;
    expect(await w.sync()).toBe(1);
    expect(w.lastError).toBeNull();
    await w.close();
  });
});
