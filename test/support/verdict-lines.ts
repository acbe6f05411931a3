/** A symbol's kline verdict file for a day, every line as written (not the latest per minute). */
import { readFileSync } from "node:fs";
import { klineVerdictPath, type MinuteVerdict } from "../../src/completeness/kline-verdicts.ts";

export function verdictLines(dataDir: string, symbol: string, date: string): MinuteVerdict[] {
  try {
    return readFileSync(klineVerdictPath(dataDir, symbol, date), "utf8")
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as MinuteVerdict);
  } catch {
    return [];
  }
}
