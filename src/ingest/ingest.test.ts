import { describe, expect, test } from "bun:test";
import { DecodeStatus, SymbolLookup } from "../decode/binance/index.ts";
import { SymbolTable } from "../model/symbols.ts";
import { Table, type TableId } from "../model/tables.ts";
import { DeadLetterBuffer } from "../ring/dead-letter.ts";
import { Ring } from "../ring/ring.ts";
import type { GapEntry } from "./gap-ledger.ts";
import { GapLedger } from "./gap-ledger.ts";
import { FrameTag, Ingest } from "./ingest.ts";
import { Sequencer } from "./sequencer.ts";

const trade = (id: number, sym = "BTCUSDT") =>
  `{"stream":"${sym.toLowerCase()}@trade","data":{"e":"trade","E":1700000000000000,"s":"${sym}","t":${id},"p":"100.50000000","q":"0.10000000","T":1700000000000000,"m":true,"M":true}}`;
const quote = (u: number) =>
  `{"stream":"btcusdt@bookTicker","data":{"u":${u},"s":"BTCUSDT","b":"1.00000000","B":"2.00000000","a":"1.10000000","A":"3.00000000"}}`;

function setup(
  opts: { ringCapacity?: number; walRefuses?: boolean; accepts?: (t: TableId) => boolean } = {},
) {
  const symbols = new SymbolTable(["BTCUSDT", "ETHUSDT"]);
  const ring = new Ring(opts.ringCapacity ?? 16);
  const ledger = new GapLedger();
  const gaps: GapEntry[] = [];
  const shutdowns: number[] = [];
  const walFrames: string[] = [];
  const ingest = new Ingest({
    ring,
    lookup: new SymbolLookup(symbols),
    symbols,
    sequencer: new Sequencer(),
    ledger,
    deadLetters: new DeadLetterBuffer({ maxEntries: 10 }),
    wal: { append: (f) => (opts.walRefuses ? -1 : walFrames.push(f)) },
    onGap: (g) => gaps.push(g),
    onServerShutdown: (s) => shutdowns.push(s),
    ...(opts.accepts ? { accepts: opts.accepts } : {}),
    gapMaxIds: 1000,
    nowUs: () => 1,
  });
  const ids = () => {
    const out: number[] = [];
    ring.drain(1000, (rows, slot) => out.push(rows.id[slot]!));
    return out;
  };
  return { ingest, ring, ledger, gaps, shutdowns, walFrames, ids };
}

describe("Ingest", () => {
  test("new rows are WAL'd then committed; duplicates never reach the WAL or the ring", () => {
    const s = setup();
    for (const id of [10, 11, 11, 12, 10]) s.ingest.onFrame(trade(id), 5, 0);
    expect(s.ids()).toEqual([10, 11, 12]);
    expect(s.walFrames).toHaveLength(3);
    expect(s.ingest.duplicates).toBe(2);
    expect(s.ingest.accepted[Table.trades]).toBe(3);
  });

  test("a jump opens a ledger gap and asks for repair; REST frames fill it without the dedupe", () => {
    const s = setup();
    s.ingest.onFrame(trade(10), 5, 0);
    s.ingest.onFrame(trade(14), 5, 0);
    expect(s.gaps.map((g) => [g.from_id, g.to_id, g.cause])).toEqual([[11, 13, "stream"]]);
    for (const id of [11, 12, 13]) s.ingest.onFrame(trade(id), 5, -1, FrameTag.REST);
    expect(s.ids()).toEqual([10, 14, 11, 12, 13]);
  });

  test("a gap larger than the repair budget is ledgered unrepaired, not queued", () => {
    const s = setup();
    s.ingest.onFrame(trade(10), 5, 0);
    s.ingest.onFrame(trade(5000), 5, 0);
    expect(s.gaps).toHaveLength(0);
    expect(s.ledger.entries({ state: "unrepaired" })[0]?.detail).toContain("K2_GAP_MAX_IDS");
  });

  test("a full ring refuses: the ids are ledgered as one overflow run, repaired after flush", () => {
    const s = setup({ ringCapacity: 2 });
    for (let id = 1; id <= 6; id++) s.ingest.onFrame(trade(id), 5, 0);
    expect(s.ingest.overflow).toBe(4);
    s.ingest.flushLosses();
    expect(s.ledger.entries().map((g) => [g.from_id, g.to_id, g.cause])).toEqual([[3, 6, "overflow"]]);
    expect(s.gaps.map((g) => g.cause)).toEqual(["overflow"]);
    // The sequencer moved past them: the next live id is not a second, stream gap.
    s.ids();
    s.ingest.onFrame(trade(7), 5, 0);
    expect(s.gaps).toHaveLength(1);
  });

  test("a refusing WAL keeps nothing in the ring and ledgers the ids as a storage loss", () => {
    const s = setup({ walRefuses: true });
    for (const id of [1, 2, 3]) s.ingest.onFrame(trade(id), 5, 0);
    expect(s.ids()).toEqual([]);
    s.ingest.flushLosses();
    expect(s.ledger.entries().map((g) => [g.from_id, g.to_id, g.cause])).toEqual([[1, 3, "storage"]]);
  });

  test("shedding drops quotes silently-counted and ledgers shed trades for repair", () => {
    const s = setup({ accepts: (t) => t === Table.agg_trades });
    s.ingest.onFrame(quote(100), 5, 0);
    s.ingest.onFrame(trade(1), 5, 0);
    s.ingest.flushLosses();
    expect(s.ingest.shed).toBe(2);
    expect(s.ledger.entries().map((g) => [g.table, g.from_id, g.cause])).toEqual([["trades", 1, "shed"]]);
    expect(s.ids()).toEqual([]);
  });

  test("control frames are ignored, serverShutdown asks for rotation, bad frames go to the DLQ", () => {
    const s = setup();
    s.ingest.onFrame('{"result":null,"id":1}', 5, 0);
    s.ingest.onFrame('{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}', 5, 3);
    s.ingest.onFrame('{"stream":"btcusdt@trade","data":{"e":"trade"', 7, 0);
    s.ingest.onBinary(new Uint8Array([1, 2, 3]), 8, 0);
    expect(s.shutdowns).toEqual([3]);
    expect(s.ingest.statusCounts[DecodeStatus.CONTROL]).toBe(1);
    const dl = s.ingest.deps.deadLetters.drain();
    expect(dl.map((e) => e.status)).toEqual([DecodeStatus.TRUNCATED, DecodeStatus.MALFORMED]);
    expect(dl[0]?.recv_time_us).toBe(7);
    expect(s.ids()).toEqual([]);
  });
});
