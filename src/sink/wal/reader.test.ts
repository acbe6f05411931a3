import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { crc32, crc32Table, SEGMENT_HEADER_BYTES, segmentName } from "./format.ts";
import { emptyReport, formatWalReport, readWal, recoverWal } from "./reader.ts";
import { frameFor, tempDir } from "./testdata/fixtures.ts";
import { WalWriter } from "./writer.ts";

let dir = "";
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir("walr"));
});
afterEach(() => cleanup());

/** One segment with records 1..n; returns its bytes and each record's start offset. */
async function oneSegment(n: number): Promise<{ bytes: Buffer; starts: number[]; path: string }> {
  // Inline: its flush() writes before it returns, so segmentBytes is each record's offset.
  const w = WalWriter.open({ dir, inline: true });
  const starts: number[] = [];
  for (let i = 1; i <= n; i++) {
    w.flush();
    starts.push(w.status().segmentBytes);
    w.append(frameFor(i), i * 10, 0);
  }
  await w.close();
  const path = `${dir}/${segmentName(1)}`;
  return { bytes: readFileSync(path), starts, path };
}

const seqs = (d = dir) => [...readWal(d)].map((r) => r.seq);

describe("WAL recovery", () => {
  test("torn tail at every byte of the last record: exactly the complete records survive", async () => {
    const N = 12;
    const { bytes, starts, path } = await oneSegment(N);
    const lastStart = starts[N - 1]!;
    expect(bytes.length - lastStart).toBeGreaterThan(25);
    for (let cut = lastStart; cut < bytes.length; cut++) {
      writeFileSync(path, bytes.subarray(0, cut));
      const rec = recoverWal(dir);
      expect(rec.records).toBe(N - 1);
      expect(rec.nextSeq).toBe(N);
      expect(statSync(path).size).toBe(lastStart);
      if (cut === lastStart) expect(rec.problems).toEqual([]);
      else {
        expect(rec.problems.length).toBe(1);
        expect(rec.problems[0]).toMatchObject({
          kind: "torn_tail",
          offset: lastStart,
          droppedBytes: cut - lastStart,
          action: "truncated",
        });
      }
    }
    // Appends continue right after the last good record, and replay sees each seq once.
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    const w = WalWriter.open({ dir });
    expect(w.recovery.problems[0]?.kind).toBe("torn_tail");
    expect(w.append(frameFor(N), 0, 0)).toBe(N);
    await w.close();
    const recs = [...readWal(dir)];
    expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    for (const r of recs) expect(r.payload).toBe(frameFor(r.seq));
  });

  test("a bad checksum at the tail and a zero-filled tail count as torn", async () => {
    const N = 5;
    const { bytes, starts, path } = await oneSegment(N);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1]! ^= 0xff;
    writeFileSync(path, flipped);
    expect(recoverWal(dir).problems[0]).toMatchObject({
      kind: "torn_tail",
      offset: starts[N - 1],
      action: "truncated",
    });
    writeFileSync(path, Buffer.concat([bytes.subarray(0, starts[N - 1]), Buffer.alloc(4096)]));
    const rec = recoverWal(dir);
    expect(rec.problems[0]).toMatchObject({ kind: "torn_tail", detail: "bad_length", droppedBytes: 4096 });
    expect(rec.nextSeq).toBe(N);
  });

  test("a cut inside the segment header leaves a valid empty segment", async () => {
    const { bytes, path } = await oneSegment(1);
    for (let cut = 0; cut < SEGMENT_HEADER_BYTES; cut++) {
      writeFileSync(path, bytes.subarray(0, cut));
      const rec = recoverWal(dir);
      expect(rec.nextSeq).toBe(1);
      expect(statSync(path).size).toBe(SEGMENT_HEADER_BYTES);
    }
    const w = WalWriter.open({ dir });
    expect(w.append("first", 1, 0)).toBe(1);
    await w.close();
    expect(seqs()).toEqual([1]);
  });

  test("corruption inside the last segment: sealed, not modified, no seq issued twice", async () => {
    const N = 20;
    const { bytes, starts, path } = await oneSegment(N);
    const bad = Buffer.from(bytes);
    bad[starts[4]! + 30]! ^= 0x01; // a payload byte of record 5
    writeFileSync(path, bad);
    const w = WalWriter.open({ dir });
    expect(w.recovery.problems).toEqual([
      expect.objectContaining({ kind: "corrupt", offset: starts[4], action: "sealed", detail: "bad_crc" }),
    ]);
    expect(readFileSync(path).equals(bad)).toBe(true);
    const next = w.append("after", 1, 0);
    expect(next).toBeGreaterThan(N); // seqs 5..20 were issued before: never again
    await w.close();
    const report = emptyReport();
    const recs = [...readWal(dir, { report })];
    expect(recs.map((r) => r.seq)).toEqual([1, 2, 3, 4, next]);
    expect(report.problems.map((p) => p.kind)).toEqual(["corrupt", "seq_gap"]);
    expect(report.problems[1]!.detail).toBe(`seqs 5..${next - 1} missing`);
    expect(readdirSync(dir).filter((n) => n.endsWith(".wal")).length).toBe(2);
  });

  test("corruption in an earlier segment: the rest of it is skipped, later segments still read", async () => {
    // Inline: each flush writes and may rotate, so small segments come out as the test needs.
    const w = WalWriter.open({ dir, segmentMaxBytes: 1024, bufferBytes: 4096, inline: true });
    for (let i = 1; i <= 30; i++) {
      w.append(`${"z".repeat(200)}${i}`, i, 0);
      w.flush();
    }
    await w.close();
    const names = readdirSync(dir).sort();
    const victim = `${dir}/${names[1]}`;
    const firstOfVictim = Number(names[1]!.slice(0, 20));
    const lastOfVictim = Number(names[2]!.slice(0, 20)) - 1;
    const v = readFileSync(victim);
    v[SEGMENT_HEADER_BYTES + 4]! ^= 0x10; // crc of the victim's first record
    writeFileSync(victim, v);
    const rec = recoverWal(dir);
    expect(rec.problems[0]).toMatchObject({
      kind: "corrupt",
      segment: names[1],
      offset: 8,
      action: "skipped",
    });
    expect(rec.problems[1]).toMatchObject({
      kind: "seq_gap",
      detail: `seqs ${firstOfVictim}..${lastOfVictim} missing`,
    });
    expect(readFileSync(victim).equals(v)).toBe(true);
    const got = seqs();
    expect(got.length).toBe(30 - (lastOfVictim - firstOfVictim + 1));
    expect(got[got.length - 1]).toBe(30);
    // Replay from a seq: earlier segments are not even read.
    const after = emptyReport();
    expect([...readWal(dir, { afterSeq: 25, report: after })].map((r) => r.seq)).toEqual([
      26, 27, 28, 29, 30,
    ]);
    expect(after.problems).toEqual([]);
  });

  test("the report is one line", async () => {
    const { bytes, path } = await oneSegment(3);
    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    const line = formatWalReport(recoverWal(dir));
    expect(line).toMatch(
      /^wal: 1 segments, 2 records, seq 1\.\.2; torn_tail in 0+1\.wal at byte \d+ \(short; \d+ bytes truncated\)$/,
    );
    expect(formatWalReport(recoverWal(dir))).toBe("wal: 1 segments, 2 records, seq 1..2, clean");
  });
});

describe("crc32", () => {
  test("the table CRC equals Bun.hash.crc32 at every length and offset", () => {
    const b = new Uint8Array(1200);
    for (let i = 0; i < b.length; i++) b[i] = (i * 131 + 7) & 255;
    for (let start = 0; start < 9; start++)
      for (let len = 0; len < 1100; len += start + 1) {
        const expected = Bun.hash.crc32(b.subarray(start, start + len));
        expect(crc32Table(b, start, start + len)).toBe(expected);
        expect(crc32(b, start, start + len)).toBe(expected);
      }
    expect(crc32Table(new TextEncoder().encode("123456789"), 0, 9)).toBe(0xcbf43926);
  });
});
