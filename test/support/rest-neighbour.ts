/**
 * One of several processes behind one IP (writers and recorders of one host): it asks REST for
 * trades through K2's own client, with the whole IP budget as its own, until its time is up, then
 * prints its counts as one JSON line. Spawned by test/source/rest-shared-ip.test.ts.
 *   bun test/support/rest-neighbour.ts <restUrl> <budget> <windowMs> <runMs>
 */
import { BinanceRest, RestError } from "../../src/source/binance/rest.ts";

const [baseUrl = "", budget = "6000", windowMs = "60000", runMs = "1000"] = process.argv.slice(2);
const rest = new BinanceRest({
  baseUrl,
  weightBudgetPerMin: Number(budget),
  weightWindowMs: Number(windowMs),
});
const end = Date.now() + Number(runMs);
const errors: Record<string, number> = {};
let ok = 0;
// Bounded by time (and a count, should every answer be instant): the test reads the result.
for (let i = 0; i < 100_000 && Date.now() < end; i++) {
  try {
    await rest.historicalTrades("BTCUSDT", 1, 10);
    ok++;
  } catch (e) {
    const kind = e instanceof RestError ? e.kind : "other";
    errors[kind] = (errors[kind] ?? 0) + 1;
  }
}
console.log(JSON.stringify({ ok, errors, rateLimited: rest.rateLimited, bans: rest.bans }));
