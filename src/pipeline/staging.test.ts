/**
 * The staging buffer holds frames in arrival order until an ingest is attached, notes the first
 * id per (table, symbol), copies binary frames, and refuses (and says so) past its byte bound.
 */
import { expect, test } from "bun:test";
import { SymbolLookup } from "../decode/binance/index.ts";
import { SymbolTable } from "../model/symbols.ts";
import { type FrameSink, FrameStaging } from "./staging.ts";

const symbols = new SymbolTable(["BTCUSDT", "ETHUSDT"]);
const trade = (s: string, t: number) =>
  `{"e":"trade","E":1700000000000,"s":"${s}","t":${t},"p":"1.00000000","q":"1.00000000","T":1700000000000,"m":true,"M":true}`;
const quote = (s: string, u: number) =>
  `{"u":${u},"s":"${s}","b":"1.00000000","B":"2.00000000","a":"1.10000000","A":"3.00000000"}`;

function recorder(): FrameSink & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    onFrame: (f, recv, shard) => seen.push(`${shard}:${recv}:${f}`),
    onBinary: (f, recv, shard) => seen.push(`${shard}:${recv}:bin[${[...f].join(",")}]`),
  };
}

test("held in arrival order, first ids noted, binary copied; drained once into the ingest", () => {
  const st = new FrameStaging(new SymbolLookup(symbols), symbols);
  st.onFrame(trade("BTCUSDT", 7), 1, 0);
  st.onFrame(quote("ETHUSDT", 500), 2, 1);
  const bin = new Uint8Array([1, 2, 3]);
  st.onBinary(bin, 3, 0);
  bin[0] = 9; // the source reuses its buffer
  st.onFrame(trade("BTCUSDT", 8), 4, 0);
  st.onFrame('{"result":null,"id":1}', 5, 0); // a control frame: held, no id
  expect(st.frames).toBe(5);
  expect([...st.firstIds]).toEqual([
    ["trades:BTCUSDT", 7],
    ["quotes:ETHUSDT", 500],
  ]);
  const sink = recorder();
  expect(st.drainInto(sink)).toBe(5);
  expect(sink.seen).toEqual([
    `0:1:${trade("BTCUSDT", 7)}`,
    `1:2:${quote("ETHUSDT", 500)}`,
    "0:3:bin[1,2,3]",
    `0:4:${trade("BTCUSDT", 8)}`,
    '0:5:{"result":null,"id":1}',
  ]);
  expect(st.frames).toBe(0);
  expect(st.bytes).toBe(0);
  expect(st.drainInto(recorder())).toBe(0);
});

test("past its byte bound it holds nothing more and says so", () => {
  const one = trade("BTCUSDT", 1);
  const st = new FrameStaging(new SymbolLookup(symbols), symbols, one.length * 2 * 2);
  st.onFrame(trade("BTCUSDT", 1), 1, 0);
  st.onFrame(trade("BTCUSDT", 2), 2, 0);
  expect(st.overflowed).toBe(false);
  st.onFrame(trade("BTCUSDT", 3), 3, 0);
  expect(st.overflowed).toBe(true);
  st.onFrame(trade("BTCUSDT", 4), 4, 0); // nothing after an overflow either
  expect(st.frames).toBe(2);
});
