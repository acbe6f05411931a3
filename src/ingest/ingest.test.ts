import { describe, expect, test } from "bun:test";
import { DecodeStatus, SymbolLookup } from "../decode/binance/index.ts";
import { ROW_ARRAYS } from "../model/row.ts";
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
    wal: {
      append: (f) => (opts.walRefuses ? -1 : walFrames.push(f)),
      appendBytes: (b, s, e) => (opts.walRefuses ? -1 : walFrames.push(b.toString("utf8", s, e))),
    },
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

  describe("onFrameBytes (the raw client's frames, no string)", () => {
    /** A frame's UTF-8 bytes between other bytes, as it sits in a socket's chunk. */
    const inChunk = (frame: string | Buffer) => {
      const b = typeof frame === "string" ? Buffer.from(frame, "utf8") : frame;
      return {
        chunk: Buffer.concat([Buffer.from([0x81, 0x7e]), b, Buffer.from("{junk")]),
        start: 2,
        end: 2 + b.length,
      };
    };
    const bytes = (s: ReturnType<typeof setup>, frame: string | Buffer, recv = 5) => {
      const c = inChunk(frame);
      return s.ingest.onFrameBytes(c.chunk, c.start, c.end, recv, 0);
    };

    test("a row frame goes the way of onFrame: same rows, same WAL payloads, same dedupe and gaps", () => {
      const byText = setup();
      const byBytes = setup();
      const frames = [10, 11, 11, 12, 10, 15].map((id) => trade(id)).concat([quote(7), quote(8)]);
      for (const f of frames) {
        byText.ingest.onFrame(f, 5, 0);
        expect(bytes(byBytes, f)).toBe(true);
      }
      const rowsOf = (s: ReturnType<typeof setup>) => {
        const out: unknown[] = [];
        s.ring.drain(1000, (r, slot) => out.push(ROW_ARRAYS.map((c) => r[c][slot])));
        return out;
      };
      expect(byBytes.walFrames).toEqual(byText.walFrames);
      expect(byBytes.walFrames).toHaveLength(6);
      expect(rowsOf(byBytes)).toEqual(rowsOf(byText));
      expect(byBytes.ingest.duplicates).toBe(2);
      expect(byBytes.gaps.map((g) => [g.from_id, g.to_id])).toEqual([[13, 14]]);
      expect(byBytes.ingest.statusCounts[DecodeStatus.OK]).toBe(byText.ingest.statusCounts[DecodeStatus.OK]!);
      expect(byBytes.ingest.framesAsBytes).toBe(frames.length);
      expect(byText.ingest.framesAsBytes).toBe(0);
    });

    test("anything else is declined with nothing done, for onFrame to take as a string", () => {
      const s = setup();
      const declined: (string | Buffer)[] = [
        '{"result":null,"id":1}',
        '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}',
        '{"stream":"btcusdt@trade","data":{"e":"trade"',
        trade(22).replace('"t":22', '"t":"22"'),
      ];
      // The bytes are stored unchecked, so no byte >= 0x80 may pass anywhere: at every position
      // of a trade and a quote frame, "é" (valid UTF-8) or 0xff (invalid) is declined.
      for (const f of [trade(30), quote(31)]) {
        const b = Buffer.from(f);
        for (let i = 0; i < b.length; i++) {
          declined.push(Buffer.concat([b.subarray(0, i), Buffer.from("é"), b.subarray(i + 1)]));
          const bad = Buffer.from(b);
          bad[i] = 0xff;
          declined.push(bad);
        }
      }
      expect(declined.length).toBeGreaterThan(500);
      for (const f of declined) expect(bytes(s, f)).toBe(false);
      expect(s.ids()).toEqual([]);
      expect(s.walFrames).toEqual([]);
      expect(s.shutdowns).toEqual([]);
      expect([...s.ingest.statusCounts].every((n) => n === 0)).toBe(true);
      expect(s.ingest.framesAsBytes).toBe(0);
      expect(s.ingest.deps.deadLetters.drain()).toEqual([]);
    });

    test("a full ring declines; the string path then ledgers the overflow once", () => {
      const s = setup({ ringCapacity: 2 });
      expect(bytes(s, trade(1))).toBe(true);
      expect(bytes(s, trade(2))).toBe(true);
      expect(bytes(s, trade(3))).toBe(false);
      expect(s.ring.totalRefused).toBe(0);
      s.ingest.onFrame(trade(3), 5, 0);
      expect(s.ingest.overflow).toBe(1);
      expect(s.ring.totalRefused).toBe(1);
      expect(s.ids()).toEqual([1, 2]);
    });

    test("a refusing WAL: nothing in the ring, the ids ledgered as a storage loss", () => {
      const s = setup({ walRefuses: true });
      for (const id of [1, 2, 3]) expect(bytes(s, trade(id))).toBe(true);
      expect(s.ids()).toEqual([]);
      s.ingest.flushLosses();
      expect(s.ledger.entries().map((g) => [g.from_id, g.to_id, g.cause])).toEqual([[1, 3, "storage"]]);
    });
  });
});
