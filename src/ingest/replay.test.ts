/**
 * replayWal, the start-up recovery: real Binance frames (shapes of test/fixtures/binance, µs
 * times as K2 subscribes with timeUnit=MICROSECOND), the real decoder, Ring, Sequencer, GapLedger
 * and SymbolTable; only storage (which ids are in files) and the sink behind makeRoom are small
 * in-memory fakes.
 */
import { describe, expect, test } from "bun:test";
import { SymbolLookup } from "../decode/binance/index.ts";
import { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID, Table, type TableId, type TableName } from "../model/tables.ts";
import { Ring } from "../ring/ring.ts";
import type { GapEntry } from "./gap-ledger.ts";
import { GapLedger } from "./gap-ledger.ts";
import { type ReplayDeps, replayWal, type StoredIds, type WalRecordLike } from "./replay.ts";
import { Sequencer } from "./sequencer.ts";

const E_US = 1_700_000_000_000_000;
const trade = (s: string, id: number) =>
  `{"e":"trade","E":${E_US + id},"s":"${s}","t":${id},"p":"100.50000000","q":"0.10000000","T":${E_US + id},"m":true,"M":true}`;
const agg = (s: string, id: number) =>
  `{"e":"aggTrade","E":${E_US + id},"s":"${s}","a":${id},"p":"100.50000000","q":"0.10000000","f":${id * 10},"l":${id * 10 + 2},"T":${E_US + id},"m":false,"M":true}`;
const quote = (s: string, id: number) =>
  `{"u":${id},"s":"${s}","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`;
const CONTROL = `{"result":null,"id":1}`;

/** WAL records with consecutive seqs from 1, as readWal yields them. */
const wal = (frames: string[]): WalRecordLike[] =>
  frames.map((payload, i) => ({ seq: i + 1, recvTimeUs: E_US + 1_000_000 + i, tag: 0, payload }));

/** Storage as a fixed id set per "table/symbol", honouring the StoredIds contract. */
function fakeStored(byKey: Record<string, number[]>): StoredIds {
  return {
    idsBetween: async (t, s, from, to) =>
      new Set((byKey[`${t}/${s}`] ?? []).filter((id) => id >= from && id <= to)),
    maxId: (t, s) => Math.max(-1, ...(byKey[`${t}/${s}`] ?? [])),
  };
}

interface Setup {
  records: WalRecordLike[];
  stored?: Record<string, number[]>;
  ringCapacity?: number;
  gapMaxIds?: number;
  makeRoom?: (ring: Ring) => Promise<void>;
}

function harness(o: Setup) {
  const symbols = new SymbolTable(["BTCUSDT", "ETHUSDT"]);
  const ring = new Ring(o.ringCapacity ?? 64);
  const walSeqBySlot = new Float64Array(ring.capacity);
  const sequencer = new Sequencer();
  const ledger = new GapLedger();
  const enqueued: GapEntry[] = [];
  /** A ring row as "table/symbol/id@walSeq". */
  const fmt = (rows: Ring["rows"], slot: number) =>
    `${TABLE_BY_ID[rows.kind[slot]! as TableId]}/${symbols.name(rows.symbol_id[slot]!)}/${rows.id[slot]}@${walSeqBySlot[slot]}`;
  const hot: string[] = []; // rows onRow saw (the query engine's hot window)
  const sink: string[] = []; // rows as the sink drains them
  const drain = (max: number) => ring.drain(max, (rows, slot) => sink.push(fmt(rows, slot)));
  const deps: ReplayDeps = {
    records: () => o.records,
    lookup: new SymbolLookup(symbols),
    symbols,
    ring,
    walSeqBySlot,
    stored: fakeStored(o.stored ?? {}),
    sequencer,
    ledger,
    onGap: (g) => enqueued.push(g),
    makeRoom: o.makeRoom ? () => o.makeRoom!(ring) : async () => {},
    nowUs: () => 42,
    gapMaxIds: o.gapMaxIds ?? 1000,
    onRow: (rows, slot) => hot.push(fmt(rows, slot)),
  };
  return { deps, symbols, ring, sequencer, ledger, enqueued, hot, sink, drain };
}

const row = (t: TableName, s: string, id: number, seq: number) => `${t}/${s}/${id}@${seq}`;
const brief = (e: GapEntry) => `${e.table}/${e.symbol} ${e.from_id}..${e.to_id} ${e.cause} ${e.state}`;

describe("replayWal: holes and the sequencer", () => {
  test("each run of ids neither stored nor in the WAL is one restart gap; too long ones unrepaired", async () => {
    const h = harness({
      records: wal([
        trade("BTCUSDT", 13),
        agg("BTCUSDT", 100),
        trade("BTCUSDT", 14),
        quote("BTCUSDT", 1000),
        trade("BTCUSDT", 17),
        trade("ETHUSDT", 50),
        trade("BTCUSDT", 19),
        quote("BTCUSDT", 1005), // quote update ids are not consecutive: never a hole
        trade("BTCUSDT", 24),
        trade("ETHUSDT", 51),
        trade("BTCUSDT", 25),
        agg("BTCUSDT", 103),
        trade("ETHUSDT", 52),
        quote("BTCUSDT", 1010),
        trade("BTCUSDT", 40),
      ]),
      stored: {
        // Below the WAL range (ignored), and inside it; the highest stored id (38) < WAL max (40).
        "trades/BTCUSDT": [10, 11, 12, 15, 20, 26, ...Array.from({ length: 8 }, (_, i) => 31 + i)],
        // A later batch already in a file: its max (80) is above the WAL range's max (52).
        "trades/ETHUSDT": Array.from({ length: 28 }, (_, i) => 53 + i),
      },
      gapMaxIds: 3,
    });
    const report = await replayWal(h.deps);

    // BTCUSDT trades have 13,14,15,17,19,20,24,25,26,31..38,40: missing 16, 18, 21..23, 27..30, 39.
    // A run of exactly gapMaxIds (21..23) is repaired; one id more (27..30) is not.
    const expected = [
      "agg_trades/BTCUSDT 101..102 restart pending",
      "trades/BTCUSDT 16..16 restart pending",
      "trades/BTCUSDT 18..18 restart pending",
      "trades/BTCUSDT 21..23 restart pending",
      "trades/BTCUSDT 27..30 restart unrepaired",
      "trades/BTCUSDT 39..39 restart pending",
    ];
    expect(h.ledger.entries().map(brief).sort()).toEqual(expected);
    expect(h.enqueued.map(brief).sort()).toEqual(expected.filter((e) => e.endsWith("pending")));
    expect(h.ledger.entries({ state: "unrepaired" })[0]!.detail).toBe("gap larger than K2_GAP_MAX_IDS");
    for (const e of h.ledger.entries()) expect(e.detected_at_us).toBe(42);
    expect(report.holes).toBe(6);

    // Seeded with max(WAL range max, stored max), so the first live id reveals the downtime.
    const btc = h.symbols.id("BTCUSDT")!;
    const eth = h.symbols.id("ETHUSDT")!;
    expect(h.sequencer.last(Table.trades, btc)).toBe(40);
    expect(h.sequencer.last(Table.trades, eth)).toBe(80);
    expect(h.sequencer.last(Table.agg_trades, btc)).toBe(103);
    expect(h.sequencer.last(Table.quotes, btc)).toBe(1010);
    expect(h.sequencer.last(Table.agg_trades, eth)).toBe(-1); // nothing known: untouched

    expect(report).toMatchObject({ records: 15, replayed: 15, alreadyStored: 0, duplicatesInWal: 0 });
  });

  test("a WAL whose ids are contiguous with storage ledgers nothing", async () => {
    const h = harness({
      records: wal([trade("BTCUSDT", 5), trade("BTCUSDT", 8), quote("ETHUSDT", 3), quote("ETHUSDT", 90)]),
      stored: { "trades/BTCUSDT": [1, 2, 3, 4, 6, 7] },
    });
    const report = await replayWal(h.deps);
    expect(report.holes).toBe(0);
    expect(h.ledger.entries()).toEqual([]);
    expect(h.enqueued).toEqual([]);
    expect(h.sequencer.last(Table.quotes, h.symbols.id("ETHUSDT")!)).toBe(90);
  });
});

describe("replayWal: a ring smaller than the replay", () => {
  test("waits for makeRoom while full, then delivers every row once, in WAL order", async () => {
    const frames: string[] = [];
    const expected: string[] = [];
    for (let i = 1; i <= 12; i++) {
      frames.push(trade("BTCUSDT", i));
      if (i !== 5) expected.push(row("trades", "BTCUSDT", i, frames.length)); // 5 is stored
      frames.push(agg("ETHUSDT", 200 + i));
      expected.push(row("agg_trades", "ETHUSDT", 200 + i, frames.length));
      if (i % 4 === 0) {
        frames.push(trade("BTCUSDT", i)); // a reconnect overlap: the WAL holds it twice
        frames.push(CONTROL);
      }
    }
    let calls = 0;
    const freeAtCall: number[] = [];
    const h = harness({
      records: wal(frames),
      stored: { "trades/BTCUSDT": [5] },
      ringCapacity: 4,
      // The sink frees room later (after a timer), and only a little at a time.
      makeRoom: async (ring) => {
        calls++;
        freeAtCall.push(ring.free());
        await new Promise((r) => setTimeout(r, 1));
        h.drain(3);
      },
    });
    const report = await replayWal(h.deps);
    h.drain(4); // what is left in the ring after the last row

    expect(h.sink).toEqual(expected);
    expect(report.replayed).toBe(expected.length);
    expect(h.hot).toEqual(expected);
    // makeRoom only when full; 23 rows through 4 slots freed 3 at a time: ⌈(23 - 4) / 3⌉ calls.
    expect(freeAtCall.every((f) => f === 0)).toBe(true);
    expect(calls).toBe(Math.ceil((expected.length - 4) / 3));
    expect(report).toMatchObject({ alreadyStored: 1, duplicatesInWal: 3, undecodable: 0 });
  });
});

describe("replayWal: what is skipped and why", () => {
  test("stored ids, WAL duplicates and undecodable frames are counted, each row keyed by table and symbol", async () => {
    const h = harness({
      records: wal([
        trade("BTCUSDT", 1),
        trade("BTCUSDT", 2),
        trade("BTCUSDT", 2), // duplicate in the WAL
        trade("BTCUSDT", 3), // stored
        CONTROL, // a control response is not an error
        trade("BTCUSDT", 3), // stored, again: still "already stored", not a WAL duplicate
        agg("BTCUSDT", 2), // same id, another table
        trade("ETHUSDT", 2), // same id, another symbol
        "not json",
        trade("BTCUSDT", 4).slice(0, 40), // torn by a crash
        trade("BTCUSDT", 4),
      ]),
      stored: { "trades/BTCUSDT": [3] },
    });
    const report = await replayWal(h.deps);
    h.drain(64);
    expect(report).toEqual({
      records: 11,
      replayed: 5,
      alreadyStored: 2,
      duplicatesInWal: 1,
      undecodable: 2,
      holes: 0,
    });
    expect(h.sink).toEqual([
      row("trades", "BTCUSDT", 1, 1),
      row("trades", "BTCUSDT", 2, 2),
      row("agg_trades", "BTCUSDT", 2, 7),
      row("trades", "ETHUSDT", 2, 8),
      row("trades", "BTCUSDT", 4, 11),
    ]);
  });
});
