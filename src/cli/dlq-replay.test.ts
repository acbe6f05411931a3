import { describe, expect, test } from "bun:test";
import { DecodeStatus, SymbolLookup } from "../decode/binance/index.ts";
import { type GapEntry, GapLedger } from "../ingest/gap-ledger.ts";
import { FrameTag, Ingest } from "../ingest/ingest.ts";
import { Sequencer } from "../ingest/sequencer.ts";
import { SymbolTable } from "../model/symbols.ts";
import type { TableName } from "../model/tables.ts";
import { DeadLetterBuffer } from "../ring/dead-letter.ts";
import { Ring } from "../ring/ring.ts";
import { type DlqEntry, decodeDlqLine } from "../sink/dlq/index.ts";
import { replayDlq, symbolsInFrames } from "./dlq-replay.ts";

const trade = (id: number, sym = "BTCUSDT", price = "100.50000000") =>
  `{"e":"trade","E":1700000000000000,"s":"${sym}","t":${id},"p":"${price}","q":"0.10000000","T":1700000000000000,"m":true,"M":true}`;
const quote = (u: number) =>
  `{"u":${u},"s":"ETHUSDT","b":"1.00000000","B":"2.00000000","a":"1.10000000","A":"3.00000000"}`;
const entry = (frame: string | Uint8Array, statusName: string, recvTimeUs = 1): DlqEntry => ({
  frame,
  status: 0,
  statusName,
  recvTimeUs,
});

/** Storage as a set of `${table} ${symbol} ${id}`: the interface the CLI checks Parquet through. */
const storedIn =
  (keys: string[]) =>
  async (t: TableName, symbol: string, ids: ReadonlySet<number>): Promise<Set<number>> =>
    new Set([...ids].filter((id) => keys.includes(`${t} ${symbol} ${id}`)));

describe("replayDlq", () => {
  test("groups what now decodes, checks storage per id, counts what still fails by current reason", async () => {
    const entries = [
      entry(trade(10), "bad_decimal"),
      entry(trade(10), "bad_decimal"), // the same id twice
      entry(trade(11), "bad_decimal"),
      entry(quote(7), "unknown_event"),
      entry(trade(12).slice(0, 40), "truncated"),
      entry(new Uint8Array([0xff, 0xfe]), "malformed"),
      entry(trade(13, "SOLUSDT"), "bad_decimal"), // a symbol the lookup does not know
    ];
    const out: string[] = [];
    const r = await replayDlq({
      entries: () => entries,
      symbols: ["BTCUSDT", "ETHUSDT"],
      stored: storedIn(["trades BTCUSDT 10"]),
      out: (l) => out.push(l),
    });
    expect(r).toEqual({
      entries: 7,
      symbols: ["BTCUSDT", "ETHUSDT"],
      now_decode: {
        frames: 4,
        ids: 3,
        groups: [
          { table: "trades", symbol: "BTCUSDT", frames: 3, ids: 2, in_parquet: 1, not_in_parquet: 1 },
          { table: "quotes", symbol: "ETHUSDT", frames: 1, ids: 1, in_parquet: 0, not_in_parquet: 1 },
        ],
      },
      still_fail: { frames: 3, by_reason: { bad_utf8: 1, not_configured: 1, truncated: 1 } },
      by_stored_reason: {
        bad_decimal: { entries: 4, now_decode: 3 },
        malformed: { entries: 1, now_decode: 0 },
        truncated: { entries: 1, now_decode: 0 },
        unknown_event: { entries: 1, now_decode: 1 },
      },
      out_frames: 2,
    });
    // --out: the frames whose ids no file holds, each once, as DLQ lines (byte-exact frames).
    expect(out.map((l) => (decodeDlqLine(l.trimEnd()) as DlqEntry).frame)).toEqual([trade(11), quote(7)]);
  });

  test('symbols are taken from the frames\' "s" fields, bytes included', () => {
    const bytes = new TextEncoder().encode(trade(1, "ETHUSDT"));
    expect(symbolsInFrames([entry(trade(1), "x"), entry(bytes, "x"), entry("{}", "x")])).toEqual([
      "BTCUSDT",
      "ETHUSDT",
    ]);
  });
});

/**
 * Why `replay` is a diagnostic: the evidence for how a dead-lettered trade reaches storage,
 * with the real Ingest, Sequencer and GapLedger.
 */
describe("a dead-lettered trade", () => {
  const setup = () => {
    const symbols = new SymbolTable(["BTCUSDT"]);
    const ring = new Ring(16);
    const gaps: GapEntry[] = [];
    const wal: string[] = [];
    const ingest = new Ingest({
      ring,
      lookup: new SymbolLookup(symbols),
      symbols,
      sequencer: new Sequencer(),
      ledger: new GapLedger(),
      deadLetters: new DeadLetterBuffer({ maxEntries: 10 }),
      wal: { append: (f) => wal.push(f), appendBytes: (b, s, e) => wal.push(b.toString("utf8", s, e)) },
      onGap: (g) => gaps.push(g),
      onServerShutdown: () => {},
      gapMaxIds: 1000,
      nowUs: () => 1,
    });
    return { ingest, gaps, wal };
  };
  const BAD_11 = trade(11, "BTCUSDT", "1e2"); // an exponent: not a DECIMAL(18,8) string

  test("leaves an id gap that the next trade reveals and hands to REST repair", () => {
    const s = setup();
    for (const f of [trade(10), BAD_11, trade(12)]) s.ingest.onFrame(f, 5, 0);
    const dead = s.ingest.deps.deadLetters.drain();
    expect(dead.map((e) => [e.frame, e.status])).toEqual([[BAD_11, DecodeStatus.BAD_DECIMAL]]);
    expect(s.gaps.map((g) => [g.table, g.symbol, g.from_id, g.to_id, g.cause])).toEqual([
      ["trades", "BTCUSDT", 11, 11, "stream"],
    ]);
    // Gap repair emits REST's trade 11 with tag REST: it is WAL'd and stored.
    s.ingest.onFrame(trade(11), 6, -1, FrameTag.REST);
    expect(s.wal).toEqual([trade(10), trade(12), trade(11)]);
  });

  test("fed back as a live frame (after a decoder fix) it is a duplicate; as a REST frame, a second copy", () => {
    const s = setup();
    for (const f of [trade(10), trade(11), trade(12)]) s.ingest.onFrame(f, 5, 0);
    s.ingest.onFrame(trade(11), 7, 0); // replayed as a stream frame
    expect(s.ingest.duplicates).toBe(1);
    s.ingest.onFrame(trade(11), 7, -1, FrameTag.REST); // replayed on the repair path
    expect(s.wal).toEqual([trade(10), trade(11), trade(12), trade(11)]);
  });
});
