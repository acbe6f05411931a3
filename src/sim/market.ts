/**
 * Per-symbol market shape: tick size, lot step and starting price, chosen so the simulated prices
 * span what Binance lists (65000.01 for BTCUSDT down to 0.00001234 for meme coins). Prices and
 * quantities are integers scaled by 1e8 (Binance's 8 decimals), kept as JS numbers: the largest
 * value used (65000 * 1e8 = 6.5e12) is far below 2^53, so arithmetic stays exact.
 */
import { hashSeed } from "./rng.ts";

export const SCALE = 100_000_000;

export interface SymbolProfile {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** Price tick, scaled by 1e8 (PRICE_FILTER.tickSize). */
  tickScaled: number;
  /** Quantity step, scaled by 1e8 (LOT_SIZE.stepSize). */
  stepScaled: number;
  /** Starting price in ticks. */
  initialTicks: number;
}

/** [initial price scaled, tick scaled, step scaled] */
type Shape = readonly [number, number, number];

/** Fallback ladder, picked by a hash of the symbol so the same name always gets the same shape. */
const LADDER: readonly Shape[] = [
  [1_234, 1, 100_000_000], // 0.00001234, tick 1e-8, step 1 (SHIB/PEPE-like)
  [12_340_000, 10_000, 10_000_000], // 0.1234, tick 0.0001, step 0.1
  [123_450_000, 10_000, 1_000_000], // 1.2345, tick 0.0001, step 0.01
  [2_550_000_000, 1_000_000, 100_000], // 25.50, tick 0.01, step 0.001
  [65_001_000_000, 1_000_000, 10_000], // 650.01, tick 0.01, step 0.0001
];

const TINY = LADDER[0]!;
const CENTS = LADDER[1]!;

/** Base assets whose real price range is well known. */
const KNOWN: Record<string, Shape> = {
  BTC: [6_500_001_000_000, 1_000_000, 1_000],
  ETH: [350_012_000_000, 1_000_000, 10_000],
  BNB: [60_010_000_000, 1_000_000, 100_000],
  SOL: [15_123_000_000, 1_000_000, 100_000],
  PEPE: TINY,
  SHIB: TINY,
  BONK: TINY,
  FLOKI: TINY,
  DOGE: CENTS,
  ADA: CENTS,
  XRP: CENTS,
  TRX: CENTS,
};

const QUOTES = ["FDUSD", "USDT", "USDC", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL"];

function splitAssets(symbol: string): [string, string] {
  for (const q of QUOTES) {
    if (symbol.length > q.length && symbol.endsWith(q)) return [symbol.slice(0, -q.length), q];
  }
  return [symbol.slice(0, Math.ceil(symbol.length / 2)), symbol.slice(Math.ceil(symbol.length / 2))];
}

export function profileFor(symbol: string): SymbolProfile {
  const [baseAsset, quoteAsset] = splitAssets(symbol);
  let shape: Shape | undefined;
  if (quoteAsset === "BTC" || quoteAsset === "ETH") shape = [5_123_000, 1_000, 100_000]; // 0.05123, tick 1e-5
  shape ??= KNOWN[baseAsset] ?? LADDER[hashSeed(0, symbol) % LADDER.length]!;
  const [price, tickScaled, stepScaled] = shape;
  return {
    symbol,
    baseAsset,
    quoteAsset,
    tickScaled,
    stepScaled,
    initialTicks: Math.round(price / tickScaled),
  };
}

const ZEROS = "00000000";

/** Binance's 8-decimal text of a non-negative scaled integer: 1650001000000 → "16500.01000000". */
export function formatScaled(scaled: number): string {
  const int = Math.floor(scaled / SCALE);
  const frac = String(scaled - int * SCALE);
  return `${int}.${ZEROS.slice(frac.length)}${frac}`;
}
