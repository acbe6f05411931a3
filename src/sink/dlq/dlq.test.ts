import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { appendFileSync, readdirSync, readFileSync, statSync } from "node:fs";
import type { SinkError } from "../wal/errors.ts";
import { FaultyFs, tempDir } from "../wal/testdata/fixtures.ts";
import { type DlqEntry, dlqFileName, encodeDlqLine } from "./format.ts";
import { DlqPersister } from "./persister.ts";
import { readDlq } from "./reader.ts";

let dir = "";
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir("dlq"));
});
afterEach(() => cleanup());

const files = () =>
  readdirSync(dir)
    .filter((n) => n.endsWith(".ndjson"))
    .sort();
const entry = (i: number, statusName = "truncated"): DlqEntry => ({
  frame: `{"e":"trade","t":${i},"p":"1.0`,
  status: 3,
  statusName,
  recvTimeUs: 1_700_000_000_000_000 + i,
  source: "binance-ws",
});

describe("DLQ persister", () => {
  test("strings, valid UTF-8 bytes and invalid bytes round-trip byte-exact", () => {
    const entries: DlqEntry[] = [
      { frame: '{"e":"trade","p":"1.0"}', status: 1, statusName: "bad_number", recvTimeUs: 1, source: "ws" },
      {
        frame: "lone \ud800 surrogate, emoji 🙂, NUL \u0000, newline \n",
        status: 2,
        statusName: "x",
        recvTimeUs: 2,
      },
      {
        frame: new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0xe2, 0x82, 0xac, 0x7d]),
        status: 3,
        statusName: "y",
        recvTimeUs: 3,
      },
      {
        frame: new Uint8Array([0x7b, 0xff, 0xfe, 0xc0, 0x80, 0xe2, 0x82]),
        status: 4,
        statusName: "y",
        recvTimeUs: 4,
      },
      { frame: new Uint8Array(0), status: 5, statusName: "empty", recvTimeUs: 5 },
      { frame: "", status: 5, statusName: "empty", recvTimeUs: 6 },
    ];
    const p = DlqPersister.open({ dir });
    for (const e of entries) expect(p.append(e)).toBe(true);
    p.close();
    const back = [...readDlq(dir)];
    expect(back).toEqual(entries);
    expect(back[2]!.frame).toBeInstanceOf(Uint8Array);
    expect(typeof back[1]!.frame).toBe("string");
    const lines = readFileSync(`${dir}/${files()[0]}`, "utf8").trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).enc)).toEqual(["text", "text", "utf8", "base64", "utf8", "text"]);
    expect(JSON.parse(lines[0]!)).toEqual({
      v: 1,
      recv_time_us: 1,
      status: 1,
      status_name: "bad_number",
      source: "ws",
      enc: "text",
      frame: '{"e":"trade","p":"1.0"}',
    });
  });

  test("rotates by size and by age; replay keeps order across files", () => {
    let now = 0;
    const p = DlqPersister.open({ dir, maxFileBytes: 1024, maxFileAgeMs: 1000, nowMs: () => now });
    for (let i = 0; i < 60; i++) {
      p.append(entry(i));
      p.flush();
    }
    const bySize = files();
    expect(bySize.length).toBeGreaterThan(5);
    for (const f of bySize.slice(0, -1)) expect(statSync(`${dir}/${f}`).size).toBeGreaterThanOrEqual(1024);
    now = 1000; // the active file is old: the next write starts another
    p.append(entry(60));
    p.flush();
    expect(files().length).toBe(bySize.length + 1);
    p.close();
    expect([...readDlq(dir)].map((e) => e.recvTimeUs - 1_700_000_000_000_000)).toEqual(
      Array.from({ length: 61 }, (_, i) => i),
    );
  });

  test("size cap: oldest files deleted and counted; the newest entries remain", () => {
    const p = DlqPersister.open({ dir, maxFileBytes: 1024, maxTotalBytes: 4096 });
    for (let i = 0; i < 300; i++) {
      p.append(entry(i, i % 3 === 0 ? "bad_json" : "truncated"));
      p.flush();
      const onDisk = files().reduce((s, f) => s + statSync(`${dir}/${f}`).size, 0);
      expect(onDisk).toBeLessThanOrEqual(4096);
    }
    const c = p.counts();
    expect(c.filesDeleted).toBeGreaterThan(5);
    expect(c.accepted).toEqual({ bad_json: 100, truncated: 200 });
    expect(c.bytes).toBe(files().reduce((s, f) => s + statSync(`${dir}/${f}`).size, 0));
    let written = 0;
    for (let i = 0; i < 300; i++)
      written += Buffer.byteLength(encodeDlqLine(entry(i, i % 3 === 0 ? "bad_json" : "truncated")));
    expect(c.bytes + c.bytesDeleted).toBe(written);
    p.close();
    const left = [...readDlq(dir)].map((e) => e.recvTimeUs - 1_700_000_000_000_000);
    expect(left[left.length - 1]).toBe(299);
    expect(left).toEqual(Array.from({ length: left.length }, (_, i) => 300 - left.length + i));
  });

  test("reopen: a new file after the existing ones, which count toward the cap", () => {
    let p = DlqPersister.open({ dir, maxFileBytes: 1024, maxTotalBytes: 2048 });
    for (let i = 0; i < 8; i++) p.append(entry(i));
    p.close();
    expect(files()).toEqual([dlqFileName(1)]);
    p = DlqPersister.open({ dir, maxFileBytes: 1024, maxTotalBytes: 2048 });
    for (let i = 8; i < 30; i++) {
      p.append(entry(i));
      p.flush();
    }
    p.close();
    expect(files()[0]).not.toBe(dlqFileName(1)); // the first run's file was the oldest: deleted
    expect(p.counts().filesDeleted).toBeGreaterThan(0);
  });

  test("ENOSPC: reported once, lines kept, refused by reason when the buffer is full, written after", () => {
    const fs = new FaultyFs();
    const errors: SinkError[] = [];
    const p = DlqPersister.open({ dir, fs, maxBufferedBytes: 2048, onError: (e) => errors.push(e) });
    fs.writeBudget = 100; // a short write, then ENOSPC
    const accepted: number[] = [];
    for (let i = 0; i < 100; i++) {
      if (p.append(entry(i, i % 2 ? "a" : "b"))) accepted.push(i);
      expect(p.flush()).toBe(false);
    }
    expect(errors).toEqual([expect.objectContaining({ kind: "no_space", op: "write", retryable: true })]);
    const c = p.counts();
    expect(accepted.length).toBeLessThan(100);
    expect((c.refused.a ?? 0) + (c.refused.b ?? 0)).toBe(100 - accepted.length);
    expect(c.bufferedBytes).toBeGreaterThan(1500);
    fs.writeBudget = Number.POSITIVE_INFINITY;
    expect(p.flush()).toBe(true);
    expect(p.lastError).toBeNull();
    p.close();
    expect([...readDlq(dir)].map((e) => e.recvTimeUs - 1_700_000_000_000_000)).toEqual(accepted);
  });

  test("replay skips a torn last line and a damaged line, and says where", () => {
    const p = DlqPersister.open({ dir });
    p.append(entry(1));
    p.append(entry(2));
    p.close();
    const name = files()[0]!;
    appendFileSync(`${dir}/${name}`, 'not json\n{"v":1,"recv_time_us":3,"sta');
    const bad: string[] = [];
    const got = [...readDlq(dir, { onBadLine: (f, l, r) => bad.push(`${f}:${l}:${r}`) })];
    expect(got.map((e) => e.recvTimeUs - 1_700_000_000_000_000)).toEqual([1, 2]);
    expect(bad).toEqual([`${name}:3:not JSON`, `${name}:4:torn last line (no newline)`]);
  });

  test("reason labels are bounded", () => {
    const p = DlqPersister.open({ dir });
    for (let i = 0; i < 100; i++) p.append(entry(i, `r${i}`));
    const c = p.counts();
    expect(Object.keys(c.accepted).length).toBe(65);
    expect(c.accepted.other).toBe(36);
    p.close();
  });

  test("bad sizes fail at open", () => {
    expect(() => DlqPersister.open({ dir, maxFileBytes: 4096, maxTotalBytes: 4096 })).toThrow(
      "maxTotalBytes ≥ 2 × maxFileBytes",
    );
  });
});
