/**
 * The live page's order-book panel in a real browser (Debian's Chromium), against K2 processes
 * on the simulator in book mode. One K2 keeps books (`K2_STREAMS=trade,depth`), one does not.
 * Proves: the panel shows a synced book whose update id grows; once the market pauses, the
 * ladder on the page (read as text, levels beyond K2's snapshot marked) is what GET /v1/book
 * answers for the update id the page shows;
 * a book that loses sync is labelled not synced and shows no levels, then recovers; with books
 * off the panel stays hidden; no console error, nothing requested beyond 127.0.0.1, and K2
 * still drains quickly with the panel's stream open. A screenshot is saved in tmp/page-test/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { simEnv } from "../support/bounded-run.ts";
import { type K2Process, ROOT, startK2 } from "../support/k2-process.ts";
import { waitUntil } from "../support/wait.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SYMBOL = "BTCUSDT";
/** The ladder's depth per side (book.js BOOK_LEVELS); the simulator's book holds 40 a side. */
const LEVELS = 10;
/**
 * K2's REST snapshots hold this many levels a side: the ladder's deeper levels are then known
 * from diffs only ("beyond"), so the page must mark them.
 */
const SNAPSHOT_LEVELS = 5;
/** Kept after the run (tmp/ is git-ignored), beside browser.test.ts's screenshot. */
const OUT_DIR = join(ROOT, "tmp", "page-test");

interface Level {
  price: string;
  quantity: string;
  state: string;
}
interface BookAnswer {
  state: string;
  update_id: number;
  bids: Level[];
  asks: Level[];
}

let sim: Simulator;
let withBooks: K2Process;
let noBooks: K2Process;
let browser: Browser;

async function json<T>(k2: K2Process, path: string): Promise<T> {
  const r = await fetch(`${k2.url}${path}`);
  if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

const liveBook = (k2: K2Process) => json<BookAnswer>(k2, `/v1/book?symbol=${SYMBOL}&levels=${LEVELS}`);

/** The page needs a stored trade to pick its symbol. */
const tradeStored = (k2: K2Process) => async () =>
  (await json<{ data: unknown[] }>(k2, `/v1/trades?symbol=${SYMBOL}&limit=1`)).data.length > 0;

beforeAll(async () => {
  sim = await startSimulator({ symbols: [SYMBOL], books: true, ratePerSec: 20, seed: 18 });
  const env = (streams: string) =>
    simEnv(sim, [SYMBOL], { K2_STREAMS: streams, K2_BOOK_SNAPSHOT_LIMIT: String(SNAPSHOT_LEVELS) });
  [withBooks, noBooks, browser] = await Promise.all([
    startK2(env("trade,depth")),
    startK2(env("trade")),
    launchChromium(),
  ]);
  await Promise.all([
    waitUntil(tradeStored(withBooks), 10_000, "a stored trade (books on)"),
    waitUntil(tradeStored(noBooks), 10_000, "a stored trade (books off)"),
  ]);
}, 20_000);

afterAll(async () => {
  await browser?.close();
  withBooks?.cleanup();
  noBooks?.cleanup();
  await sim?.stop();
});

/** Own copy of the page's trimming (not imported), so a wrong trim on the page shows. */
const trim = (d: string) => (d.includes(".") ? d.replace(/\.?0+$/, "") : d);

/** The ladder as the user reads it, top row first: side, price, quantity, the level's mark. */
const PAGE_LADDER = `[...document.querySelectorAll("#book-asks tr, #book-bids tr")].map((tr) =>
  [tr.dataset.side, ...[...tr.cells].slice(0, 3).map((td) => td.textContent)].join(" ").trim())`;

/** What the page should show for an answer: asks highest first above, bids best first below. */
function expectedLadder(a: BookAnswer): string[] {
  const line = (side: string, l: Level) =>
    `${side} ${trim(l.price)} ${trim(l.quantity)} ${l.state === "exact" ? "" : l.state}`.trim();
  return [...a.asks.map((l) => line("ask", l)).reverse(), ...a.bids.map((l) => line("bid", l))];
}

const shownUpdateId = async (page: Page) => Number(await page.textContent("#book-u"));

async function openPage(k2: K2Process): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${k2.url}/?symbol=${SYMBOL}&interval=1s`);
  await page.waitForSelector("#tape tbody tr", { timeout: 5_000 }); // the live stream is up
  return page;
}

describe("order book on the live page", () => {
  test("a synced ladder that moves, equal to /v1/book at the update id shown", async () => {
    const page = await openPage(withBooks);
    await page.waitForSelector('#book[data-state="synced"]', { timeout: 8_000 });
    expect(await page.isVisible("#book")).toBe(true);
    expect(await page.textContent("#book-state")).toBe("synced");

    // It updates over time: the update id shown grows.
    const first = await shownUpdateId(page);
    expect(first).toBeGreaterThan(0);
    await page.waitForFunction(
      `Number(document.querySelector("#book-u").textContent) > ${first}`,
      undefined,
      {
        timeout: 3_000,
      },
    );

    // Freeze the market: the page and the API then settle on the same, final update id.
    sim.faults.pause(true);
    try {
      let api = await liveBook(withBooks);
      await waitUntil(
        async () => {
          const [a, shown] = [await liveBook(withBooks), await shownUpdateId(page)];
          const settled = a.update_id === api.update_id && shown === a.update_id;
          api = a;
          return settled;
        },
        5_000,
        "the page to show the book's final update id",
        { everyMs: 300 },
      );
      expect(api.state).toBe("synced");
      // Deeper than the snapshot on both sides: the ladder holds levels known from diffs only.
      for (const side of [api.bids, api.asks]) {
        expect(side.length).toBeGreaterThan(SNAPSHOT_LEVELS);
        expect(side.length).toBeLessThanOrEqual(LEVELS);
        expect(side.some((l) => l.state === "beyond")).toBe(true);
      }
      const shown = (await page.evaluate(PAGE_LADDER)) as string[];
      expect({ u: await shownUpdateId(page), ladder: shown }).toEqual({
        u: api.update_id,
        ladder: expectedLadder(api),
      });
      // The spread row between the sides is the exact difference of the best prices.
      const spread = (Number(api.asks[0]!.price) - Number(api.bids[0]!.price)).toFixed(8);
      expect(await page.textContent("#book-spread")).toBe(`spread ${trim(spread)}`);
      expect(browser.errorsOf(page)).toEqual([]);
      mkdirSync(OUT_DIR, { recursive: true });
      await page.screenshot({ path: join(OUT_DIR, "book-panel.png") });
    } finally {
      sim.faults.pause(false); // the next tests need a moving market, whatever happened here
    }
    await page.close();
  }, 20_000);

  test("a book that lost sync is labelled not synced and shows no levels, until it is back", async () => {
    const page = await openPage(withBooks);
    await page.waitForSelector('#book[data-state="synced"]', { timeout: 5_000 });
    // A hole in the diffs forces a resync, and its snapshots are refused for now.
    sim.faults.depth({ snapshotStatus: 429 });
    sim.faults.skipDepthUpdates(2, SYMBOL);
    try {
      await page.waitForSelector('#book[data-state="not-synced"]', { timeout: 5_000 });
      expect(await page.textContent("#book-state")).toStartWith("not synced");
      expect(await page.locator("#book-asks tr, #book-bids tr[data-side]").count()).toBe(0);
      expect((await liveBook(withBooks)).state).not.toBe("synced");
    } finally {
      sim.faults.depth({ snapshotStatus: 0 });
    }
    await page.waitForSelector('#book[data-state="synced"]', { timeout: 8_000 });
    expect(await page.locator("#book-bids tr[data-side=bid]").count()).toBeGreaterThan(0);
    expect(browser.errorsOf(page)).toEqual([]);
    await page.close();
  }, 20_000);

  test("with books off the panel stays hidden, with no console error", async () => {
    const page = await openPage(noBooks);
    // The page decided (a status record came): the panel is off, not merely not yet shown.
    await page.waitForSelector('#book[data-state="off"]', { state: "attached", timeout: 5_000 });
    expect(await page.isHidden("#book")).toBe(true);
    expect(browser.errorsOf(page)).toEqual([]);
    await page.close();
  }, 10_000);

  test("K2 drains and exits 0 at once with the book panel open; nothing was asked of the outside", async () => {
    const page = await openPage(withBooks);
    await page.waitForSelector('#book[data-state="synced"]', { timeout: 5_000 });
    // Bun's graceful stop waits for open responses: the panel's stream must not hold it.
    const { code, ms } = await withBooks.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(5_000);
    expect(browser.outside).toEqual([]);
    await page.close();
  }, 20_000);
});
