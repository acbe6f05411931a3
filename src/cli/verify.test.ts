import { expect, test } from "bun:test";
import { runVerifyCli } from "./verify.ts";

async function run(argv: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const code = await runVerifyCli(argv, { env: {}, write: () => {}, error: (l) => err.push(l) });
  return { code, err };
}

test("bad arguments exit 2 with one sentence naming the flag", async () => {
  expect(await run([])).toEqual({
    code: 2,
    err: ["k2 verify: --date YYYY-MM-DD is required (k2 verify --help)"],
  });
  const cases: [string[], RegExp][] = [
    [["--date", "2025-02-30"], /--date '2025-02-30': expected a real UTC date/],
    [["--date", "2025-01-02", "--table", "quotes"], /--table 'quotes': expected trades or agg_trades/],
    [["--date", "2025-01-02", "--symbols", "BTC-USDT"], /--symbols: 'BTC-USDT' is not a Binance symbol/],
    [
      ["--date", "2025-01-02", "--spot-checks", "11"],
      /--spot-checks '11': expected a whole number from 0 to 10/,
    ],
    [["--date", "2025-01-02", "--archive-url", "ftp://x"], /--archive-url 'ftp:\/\/x': expected http\(s\)/],
    [["--date"], /--date needs a value/],
    [["--dates", "2025-01-02"], /unknown argument '--dates'/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(argv);
    expect([argv, r.code]).toEqual([argv, 2]);
    expect(r.err.length).toBe(1);
    expect(r.err[0]).toMatch(re);
  }
});

test("a data folder that does not exist is named", async () => {
  const r = await run(["--date", "2025-01-02", "--data-dir", "/nonexistent/k2-data"]);
  expect(r.code).toBe(2);
  expect(r.err[0]).toContain("no data folder /nonexistent/k2-data");
});
