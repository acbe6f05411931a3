/**
 * Regenerates the generated fixtures under test/fixtures/binance (deterministic: same seed, same
 * bytes). Run: bun run test/decode/make-fixtures.ts. The hand-written fixtures are not touched.
 */
import { join } from "node:path";
import { decimalText, makeSymbols, Rng } from "./gen.ts";

const ROOT = join(import.meta.dir, "../fixtures/binance");
/** Symbols the fixture tests configure (the generated ones draw from the same list). */
export const FIXTURE_SYMBOLS = ["BNBBTC", "BNBUSDT", "BTCUSDT", "ETHUSDT", ...makeSymbols(300)];
const MAX_ID = 2 ** 53 - 1;

function id(rng: Rng): number {
  // Mostly realistic (≤ 5e9), some right below 2^53 (the largest id we accept).
  return rng.chance(0.1) ? MAX_ID - rng.int(1000) : rng.int(5_000_000_000);
}

function time(rng: Rng): number {
  return 1_672_515_782_136 + rng.int(100_000_000_000);
}

/** Prices from 1e-8 to 1e6, quantities with 0–8 decimals, Binance's compact layout. */
function lines(kind: "trade" | "aggTrade" | "bookTicker", n: number, seed: number): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = rng.pick(FIXTURE_SYMBOLS);
    const p = rng.chance(0.1) ? "0.00000001" : decimalText(rng, 7).text;
    const q = decimalText(rng, 5).text;
    const m = rng.chance(0.5);
    const e = time(rng);
    let body: string;
    if (kind === "trade")
      body = `{"e":"trade","E":${e},"s":"${s}","t":${id(rng)},"p":"${p}","q":"${q}","T":${e - rng.int(5)},"m":${m},"M":true}`;
    else if (kind === "aggTrade") {
      const f = id(rng) % 1e12;
      body = `{"e":"aggTrade","E":${e},"s":"${s}","a":${id(rng)},"p":"${p}","q":"${q}","f":${f},"l":${f + rng.int(20)},"T":${e - rng.int(5)},"m":${m},"M":true}`;
    } else
      body = `{"u":${id(rng)},"s":"${s}","b":"${p}","B":"${q}","a":"${decimalText(rng, 7).text}","A":"${decimalText(rng, 5).text}"}`;
    out.push(rng.chance(0.5) ? `{"stream":"${s.toLowerCase()}@${kind}","data":${body}}` : body);
  }
  return out;
}

if (import.meta.main) {
  const files: [string, string[]][] = [
    ["trade/generated.jsonl", lines("trade", 200, 11)],
    ["agg-trade/generated.jsonl", lines("aggTrade", 200, 12)],
    ["book-ticker/generated.jsonl", lines("bookTicker", 200, 13)],
  ];
  for (const [path, ls] of files) await Bun.write(join(ROOT, path), `${ls.join("\n")}\n`);
  console.log(`wrote ${files.length} files`);
}
