/**
 * `k2 dlq` end to end: dead-letter files written by the real DlqPersister (two runs, a torn last
 * line, an invalid-UTF-8 frame kept as base64, a frame an earlier decoder rejected that the
 * current one accepts), a real Parquet file from the writer pool holding one of the recovered
 * ids, and the CLI run as operators run it (`bun run src/main.ts dlq ...` in a child process).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DecodeStatus, decodeFrame, SymbolLookup } from "../../src/decode/binance/index.ts";
import { allocRowColumns } from "../../src/model/row.ts";
import { SymbolTable } from "../../src/model/symbols.ts";
import { type DlqEntry, DlqPersister } from "../../src/sink/dlq/index.ts";
import { buildBatch, ParquetWriterPool } from "../../src/sink/parquet/index.ts";
import { ROOT } from "../support/k2-process.ts";

const T0 = 1_700_000_000_000_000; // 2023-11-14T22:13:20Z in µs
/** A valid trade that an earlier decoder dead-lettered as bad_decimal; its id is in Parquet. */
const TRADE = `{"e":"trade","E":${T0},"s":"BTCUSDT","t":1001,"p":"100.50000000","q":"0.10000000","T":${T0},"m":true,"M":true}`;
/** A valid agg trade an earlier decoder did not know; its id is in no Parquet file. */
const AGG = `{"e":"aggTrade","E":${T0},"s":"ETHUSDT","a":5000,"p":"2000.00000000","q":"1.00000000","f":100,"l":101,"T":${T0},"m":false,"M":true}`;
const CUT = `{"e":"trade","E":${T0},"s":"BTCUSDT","t":1002,"p":"100.5`;
const BINARY = new Uint8Array([0x7b, 0xff, 0xfe, 0xc0, 0x80, 0x00, 0x01]);

const FIRST_RUN: DlqEntry[] = [
  { frame: TRADE, status: 7, statusName: "bad_decimal", recvTimeUs: T0 + 1, source: "shard-0:bad_decimal" },
  { frame: CUT, status: 4, statusName: "truncated", recvTimeUs: T0 + 2, source: "shard-0:truncated" },
  { frame: BINARY, status: 13, statusName: "malformed", recvTimeUs: T0 + 3, source: "shard-1:binary" },
  { frame: AGG, status: 9, statusName: "unknown_event", recvTimeUs: T0 + 4, source: "shard-1:unknown_event" },
];
const SECOND_RUN: DlqEntry[] = [
  // The same trade dead-lettered again (reconnect overlap): replay must count its id once.
  { frame: TRADE, status: 7, statusName: "bad_decimal", recvTimeUs: T0 + 5, source: "shard-0:bad_decimal" },
  { frame: CUT, status: 4, statusName: "truncated", recvTimeUs: T0 + 6_000_000, source: "shard-0:truncated" },
];
const TORN = '{"v":1,"recv_time_us":1700000000000009,"sta';

let root = "";
let dataDir = "";
let dlqDir = "";
/** The complete lines the persister wrote, in file order. */
let storedLines: string[] = [];

async function k2(...args: string[]) {
  const proc = Bun.spawn([process.execPath, "run", "src/main.ts", "dlq", ...args], {
    cwd: ROOT,
    env: { ...process.env, K2_DATA_DIR: "", K2_LOCAL_DIR: "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => null)]);
  if (code === null) proc.kill("SIGKILL");
  return { code, stdout, stderr };
}

/** Store the trade of TRADE the way the sink does: decoded row → batch → Parquet via the pool. */
async function storeTrade(): Promise<void> {
  const symbols = new SymbolTable(["BTCUSDT"]);
  const rows = allocRowColumns(1);
  expect(decodeFrame(TRADE, new SymbolLookup(symbols), rows, 0, T0 + 1, true)).toBe(DecodeStatus.OK);
  const pool = await ParquetWriterPool.start({ dataDir, workers: 1 });
  try {
    await pool.write(buildBatch("trades", "BTCUSDT", 0, rows, [0]));
  } finally {
    await pool.close();
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "k2-dlq-cli-"));
  dataDir = join(root, "data");
  dlqDir = join(dataDir, "dlq");
  for (const run of [FIRST_RUN, SECOND_RUN]) {
    const p = DlqPersister.open({ dir: dlqDir });
    for (const e of run) expect(p.append(e)).toBe(true);
    p.close();
  }
  const files = readdirSync(dlqDir).sort();
  storedLines = files.flatMap((f) => readFileSync(join(dlqDir, f), "utf8").split("\n").filter(Boolean));
  appendFileSync(join(dlqDir, files[1]!), TORN); // K2 died mid-write
  mkdirSync(join(root, "empty", "dlq"), { recursive: true });
  await storeTrade();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const torn = "k2 dlq: skipped 00000000000000000002.ndjson line 3: torn last line (no newline)\n";

describe("k2 dlq", () => {
  test("stats: counts by reason and source, receive times, files and bytes; table and --json", async () => {
    const [table, json] = await Promise.all([
      k2("stats", "--data-dir", dataDir),
      k2("stats", "--data-dir", dataDir, "--json"),
    ]);
    const bytes = storedLines.reduce((s, l) => s + l.length + 1, 0) + TORN.length;
    expect(table).toEqual({
      code: 0,
      stderr: torn,
      stdout: `dead-letter queue ${dlqDir}
  files  bytes  entries  unreadable lines
      2   ${bytes}        6                 1
  first received  2023-11-14T22:13:20.000001Z
  last received   2023-11-14T22:13:26.000000Z

by reason
  reason         entries
  bad_decimal          2
  truncated            2
  malformed            1
  unknown_event        1

by source
  source                 entries
  shard-0:bad_decimal          2
  shard-0:truncated            2
  shard-1:binary               1
  shard-1:unknown_event        1
`,
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      dir: dlqDir,
      files: 2,
      bytes,
      entries: 6,
      unreadable_lines: 1,
      first_recv_time_us: T0 + 1,
      last_recv_time_us: T0 + 6_000_000,
      by_reason: { bad_decimal: 2, truncated: 2, malformed: 1, unknown_event: 1 },
      by_source: {
        "shard-0:bad_decimal": 2,
        "shard-0:truncated": 2,
        "shard-1:binary": 1,
        "shard-1:unknown_event": 1,
      },
    });
  });

  test("export: the stored lines byte for byte (base64 kept), filtered by reason, time and limit", async () => {
    const [all, filtered, since] = await Promise.all([
      k2("export", "--data-dir", dataDir),
      k2("export", "--data-dir", dataDir, "--reason", "truncated", "--limit", "1"),
      k2("export", "--data-dir", dataDir, "--since", "2023-11-14T22:13:21Z"),
    ]);
    expect(all).toEqual({ code: 0, stdout: storedLines.map((l) => `${l}\n`).join(""), stderr: torn });
    expect(JSON.parse(storedLines[2]!)).toMatchObject({ enc: "base64", frame: "e//+wIAAAQ==" });
    expect(filtered.stdout).toBe(`${storedLines[1]}\n`);
    expect(since.stdout).toBe(`${storedLines[5]}\n`);
  });

  test("replay: what decodes now, by table and symbol, against the ids in Parquet; --out and --json", async () => {
    const out = join(root, "recovered.ndjson");
    const [table, json] = await Promise.all([
      k2("replay", "--data-dir", dataDir, "--out", out),
      k2("replay", "--data-dir", dataDir, "--json", "--symbols", "BTCUSDT"),
    ]);
    expect(table).toEqual({
      code: 0,
      stderr: torn,
      stdout: `replay of 6 dead-lettered frames in ${dlqDir} with the current decoder
  symbols: BTCUSDT, ETHUSDT (found in the frames)

now decode: 3 frames, 2 distinct ids
  table       symbol   frames  ids  in parquet  not in parquet
  trades      BTCUSDT       2    1           1               0
  agg_trades  ETHUSDT       1    1           0               1

still fail: 3 frames
  reason now  frames
  truncated        2
  bad_utf8         1

by stored reason
  reason then    entries  now decode
  bad_decimal          2           2
  truncated            2           0
  malformed            1           0
  unknown_event        1           1

wrote 1 frame(s) to ${out}
`,
    });
    // Only the agg trade: the trade's id is already in Parquet, so replaying it would duplicate it.
    expect(readFileSync(out, "utf8")).toBe(`${storedLines[3]}\n`);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      dir: dlqDir,
      entries: 6,
      symbols: ["BTCUSDT"],
      now_decode: {
        frames: 2,
        ids: 1,
        groups: [{ table: "trades", symbol: "BTCUSDT", frames: 2, ids: 1, in_parquet: 1, not_in_parquet: 0 }],
      },
      still_fail: { frames: 4, by_reason: { truncated: 2, bad_utf8: 1, not_configured: 1 } },
      by_stored_reason: {
        bad_decimal: { entries: 2, now_decode: 2 },
        truncated: { entries: 2, now_decode: 0 },
        malformed: { entries: 1, now_decode: 0 },
        unknown_event: { entries: 1, now_decode: 0 },
      },
      out_frames: 0,
    });
  });

  test("an empty dead-letter folder is the healthy state: exit 0, zero counts, JSON with --json", async () => {
    const emptyDir = join(root, "empty");
    const [table, json, exported] = await Promise.all([
      k2("stats", "--data-dir", emptyDir),
      k2("stats", "--data-dir", emptyDir, "--json"),
      k2("export", "--data-dir", emptyDir),
    ]);
    expect([table.code, table.stderr]).toEqual([0, ""]);
    expect(table.stdout).toContain("entries");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      dir: join(emptyDir, "dlq"),
      files: 0,
      bytes: 0,
      entries: 0,
      unreadable_lines: 0,
      first_recv_time_us: null,
      last_recv_time_us: null,
      by_reason: {},
      by_source: {},
    });
    expect(exported).toEqual({
      code: 0,
      stdout: "",
      stderr: `k2 dlq: nothing was dead-lettered (${join(emptyDir, "dlq")} holds no <seq>.ndjson files)\n`,
    });
  });

  test("errors: a missing folder exits 1 naming it; bad flags exit 2 with the usage", async () => {
    const [missing, badFlag] = await Promise.all([
      k2("stats", "--data-dir", join(root, "nope")),
      k2("export", "--data-dir", dataDir, "--limit", "ten"),
    ]);
    expect(missing).toEqual({
      code: 1,
      stdout: "",
      stderr: `k2 dlq: no dead-letter folder ${join(root, "nope", "dlq")} (expected <data dir>/dlq: pass --data-dir or set K2_DATA_DIR to the running K2's)\n`,
    });
    expect(badFlag).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'k2 dlq: --limit: expected an integer 1..999999999, got "ten"\nusage: k2 dlq stats|export|replay [flags] (k2 dlq --help)\n',
    });
  });
});
