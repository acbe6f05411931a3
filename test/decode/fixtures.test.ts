/**
 * Conformance over every fixture file (test/fixtures/binance, provenance in ../fixtures/SOURCES.md):
 * valid frames decode to exactly what the JSON.parse + parseDecimal oracle says, in string and
 * bytes form; malformed frames yield the status named in malformed/expected.json and leave every
 * other row untouched.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  decodeFrame,
  MAX_FRAME_LENGTH,
  DecodeStatus as S,
  SymbolLookup,
  statusName,
} from "../../src/decode/binance/index.ts";
import { allocRowColumns, type RowColumns, SymbolTable, Table } from "../../src/model/index.ts";
import { FIXTURE_SYMBOLS } from "./make-fixtures.ts";
import { INVALID_JSON, oracle, readRow } from "./oracle.ts";

const ROOT = join(import.meta.dir, "../fixtures/binance");
const table = new SymbolTable(FIXTURE_SYMBOLS);
const symbols = new SymbolLookup(table);
const RECV_US = 1_672_515_782_999_000;
const SLOT = 3;
const enc = new TextEncoder();

/** Every slot but SLOT filled with a recognisable pattern, to prove decoders touch only SLOT. */
function sentinelRows(): RowColumns {
  const out = allocRowColumns(8);
  for (const col of Object.values(out)) {
    if (col instanceof Uint8Array || col instanceof Uint16Array) col.fill(0xa5);
    else if (col instanceof Float64Array) col.fill(-7.5);
  }
  for (const w of [out.dec0w, out.dec1w, out.dec2w, out.dec3w]) w.fill(0xdeadbeef);
  return out;
}

function expectOthersUntouched(out: RowColumns): void {
  const fresh = sentinelRows();
  for (let i = 0; i < out.capacity; i++) if (i !== SLOT) expect(readRow(out, i)).toEqual(readRow(fresh, i));
}

/** Decode one frame and compare with the oracle (and with `want` when the folder fixes it). */
function checkValid(frame: string, bytes: Uint8Array | null, timeUnitUs: boolean, want: number): void {
  const exp = oracle(frame, table, RECV_US, timeUnitUs);
  expect(statusName(exp.status)).toBe(statusName(want)); // the fixture means what its folder says
  for (const form of bytes === null ? [frame, enc.encode(frame)] : [bytes]) {
    const out = sentinelRows();
    const got = decodeFrame(form, symbols, out, SLOT, RECV_US, timeUnitUs);
    expect(statusName(got)).toBe(statusName(exp.status));
    if (exp.row) expect(readRow(out, SLOT)).toEqual(exp.row);
    expectOthersUntouched(out);
  }
}

const FOLDER_STATUS: Record<string, number> = {
  trade: S.OK,
  "agg-trade": S.OK,
  "book-ticker": S.OK,
  "control/subscribe-result": S.CONTROL,
  "control/list-subscriptions": S.CONTROL,
  "control/get-property": S.CONTROL,
  "control/error": S.CONTROL,
  "control/server-shutdown": S.SERVER_SHUTDOWN,
  "control/not-configured": S.NOT_CONFIGURED,
  "control/unknown-event": S.UNKNOWN_EVENT,
};

describe("valid and control fixtures match the oracle", () => {
  for (const dir of ["trade", "agg-trade", "book-ticker", "control"]) {
    for (const file of readdirSync(join(ROOT, dir)).sort()) {
      const name = file.replace(/\.(jsonl|bin)$/, "");
      const want = FOLDER_STATUS[dir] ?? FOLDER_STATUS[`${dir}/${name}`];
      test(`${dir}/${file}`, () => {
        expect(want).toBeDefined();
        const timeUnitUs = name.includes("timeunit-us");
        if (file.endsWith(".bin")) {
          const bytes = new Uint8Array(readFileSync(join(ROOT, dir, file)));
          checkValid(new TextDecoder("utf-8", { fatal: true }).decode(bytes), bytes, timeUnitUs, want!);
          return;
        }
        const lines = readFileSync(join(ROOT, dir, file), "utf8")
          .split("\n")
          .filter((l) => l.length > 0);
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) checkValid(line, null, timeUnitUs, want!);
      });
    }
  }
});

describe("documented examples decode to hand-checked values", () => {
  test("trade (combined, protocol notes): price, quantity, side, µs times", () => {
    const out = allocRowColumns(1);
    const frame = readFileSync(join(ROOT, "trade/combined.jsonl"), "utf8").trim();
    expect(decodeFrame(frame, symbols, out, 0, RECV_US, false)).toBe(S.OK);
    expect(readRow(out, 0)).toEqual({
      kind: Table.trades,
      symbol_id: table.id("BTCUSDT")!,
      id: 12345,
      first_id: 0,
      last_id: 0,
      trade_time_us: 1_672_515_782_136_000,
      event_time_us: 1_672_515_782_136_000,
      recv_time_us: RECV_US,
      dec0: 1_650_001_000_000n,
      dec1: 100_000n,
      dec2: 0n,
      dec3: 0n,
      flags: 1, // m:true → buyer is maker → aggressor SELL
    });
  });
  test("bookTicker (Binance docs): four decimals, event time = receive time", () => {
    const out = allocRowColumns(1);
    const frame = readFileSync(join(ROOT, "book-ticker/doc-example.jsonl"), "utf8").trim();
    expect(decodeFrame(enc.encode(frame), symbols, out, 0, RECV_US, false)).toBe(S.OK);
    const row = readRow(out, 0);
    expect([row.kind, row.id, row.dec0, row.dec1, row.dec2, row.dec3, row.event_time_us]).toEqual([
      Table.quotes,
      400900217,
      2_535_190_000n,
      3_121_000_000n,
      2_536_520_000n,
      4_066_000_000n,
      RECV_US,
    ]);
  });
});

describe("malformed fixtures yield their named status and touch no other row", () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, "malformed/expected.json"), "utf8")) as Record<
    string,
    string
  >;
  const files = readdirSync(join(ROOT, "malformed")).filter((f) => f !== "expected.json");
  test("every malformed file is in the manifest and vice versa", () => {
    expect(files.sort()).toEqual(Object.keys(manifest).sort());
  });
  for (const [file, want] of Object.entries(manifest)) {
    test(`${file} → ${want}`, () => {
      const bytes = new Uint8Array(readFileSync(join(ROOT, "malformed", file)));
      const forms: (string | Uint8Array)[] = [bytes];
      if (file.endsWith(".txt")) forms.push(new TextDecoder().decode(bytes));
      for (const form of forms) {
        const out = sentinelRows();
        expect(statusName(decodeFrame(form, symbols, out, SLOT, RECV_US, false))).toBe(want as never);
        expectOthersUntouched(out);
      }
      // Where the oracle can judge (it cannot see duplicate keys or our nesting limit), it agrees.
      if (!file.endsWith(".txt") || file.startsWith("duplicate") || file.includes("too-deep")) return;
      const exp = oracle(new TextDecoder().decode(bytes), table, RECV_US, false).status;
      if (want === "truncated" || want === "malformed") expect(exp).toBeOneOf([INVALID_JSON, S.MALFORMED]);
      else expect(statusName(exp)).toBe(want as never);
    });
  }
});

describe("frame size limit", () => {
  const trade = readFileSync(join(ROOT, "trade/combined.jsonl"), "utf8").trim();
  const padded = (n: number) => trade.replace('"M":true', `"M":true,"x":"${"a".repeat(n)}"`);
  test("a 1 MB frame is TOO_LARGE in both forms, before any scanning", () => {
    const big = padded(1_048_576);
    const out = sentinelRows();
    expect(decodeFrame(big, symbols, out, SLOT, RECV_US, false)).toBe(S.TOO_LARGE);
    expect(decodeFrame(enc.encode(big), symbols, out, SLOT, RECV_US, false)).toBe(S.TOO_LARGE);
    expectOthersUntouched(out);
  });
  test("a frame of exactly MAX_FRAME_LENGTH decodes; one more is TOO_LARGE", () => {
    const exact = padded(MAX_FRAME_LENGTH - padded(0).length);
    expect(exact.length).toBe(MAX_FRAME_LENGTH);
    const out = allocRowColumns(1);
    expect(decodeFrame(exact, symbols, out, 0, RECV_US, false)).toBe(S.OK);
    expect(out.dec0[0]).toBe(1_650_001_000_000n);
    expect(decodeFrame(`${exact} `, symbols, out, 0, RECV_US, false)).toBe(S.TOO_LARGE);
  });
});
