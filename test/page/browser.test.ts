/**
 * The live page and the API reference in a real browser (Debian's Chromium), against a K2 process
 * on a simulated market with API keys on. Every request beyond 127.0.0.1 is aborted and must
 * not happen. Proves: the page loads with no console error; after the market pauses, the chart
 * holds exactly the candles /v1/ohlcv serves; when the market resumes, the tape shows a trade
 * within 2 s of /v1/trades first returning it; a browser without the key is asked for it; /docs
 * renders its operations offline; K2 stops cleanly (exit 0, quickly) while a page is open.
 * A screenshot is saved; its path is printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type Simulator, startSimulator } from "../../src/sim/index.ts";
import { resumeWhenConnected, simEnv } from "../support/bounded-run.ts";
import { type K2Process, ROOT, startK2 } from "../support/k2-process.ts";
import { waitUntil } from "../support/wait.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SYMBOL = "BTCUSDT";
const KEY = "page-browser-test-key-0123456789";
const TAPE_LATENCY_MS = 2_000;
/** Kept after the run (tmp/ is git-ignored; the tests' TMPDIR is removed when they end). */
const OUT_DIR = join(ROOT, "tmp", "page-test");

let sim: Simulator;
let k2: K2Process;
let browser: Browser;

beforeAll(async () => {
  sim = await startSimulator({
    symbols: [SYMBOL, "ETHUSDT"],
    ratePerSec: 20,
    seed: 16,
    faults: { paused: true },
  });
  k2 = await startK2(simEnv(sim, [SYMBOL, "ETHUSDT"], { K2_API_KEYS: KEY }));
  await resumeWhenConnected(sim);
  [browser] = await Promise.all([
    launchChromium(),
    waitUntil(async () => (await newestId()) > 0, 10_000, "a stored trade"),
  ]);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  k2?.cleanup();
  await sim?.stop();
});

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${k2.url}${path}`, { headers: { "x-api-key": KEY } });
  if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

async function newestId(): Promise<number> {
  const body = await api<{ data: { trade_id: number }[] }>(`/v1/trades?symbol=${SYMBOL}&order=desc&limit=1`);
  return body.data[0]?.trade_id ?? -1;
}

/** Browser-side expression: the newest trade id on the tape (its top row), or -1. */
const TAPE_TOP = `Number(document.querySelector("#tape tbody tr")?.getAttribute("data-trade-id") ?? -1)`;
const tapeTop = (page: Page) => page.evaluate(TAPE_TOP) as Promise<number>;

interface Bar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

describe("live page in Chromium", () => {
  test("loads clean; chart = /v1/ohlcv; tape within 2 s of storage; screenshot", async () => {
    const page = await browser.newPage();
    // A returning user: the key is already in this browser.
    await page.addInitScript((key) => localStorage.setItem("k2.apiKey", key), KEY);
    await page.goto(`${k2.url}/?symbol=${SYMBOL}&interval=1s`);
    await page.waitForSelector("#tape tbody tr", { timeout: 5_000 });
    expect(await page.isHidden("#key-form")).toBe(true);

    // Let candles stream in for a while, then freeze the market and let the page catch up.
    await Bun.sleep(1_500);
    sim.applyFaults({ paused: true });
    let last = -2;
    await waitUntil(
      async () => {
        const [id, top] = [await newestId(), await tapeTop(page)];
        const settled = id === last && top === id;
        last = id;
        return settled;
      },
      5_000,
      "the stored trades to settle and the tape to show the newest",
      { everyMs: 400 },
    );
    // What the chart holds (app.js exposes its series as window.k2.series).
    const bars = (await page.evaluate("window.k2.series.data()")) as Bar[];
    expect(bars.length).toBeGreaterThan(1);
    const from = bars[0]!.time * 1000;
    const to = bars.at(-1)!.time * 1000 + 1000;
    const { data } = await api<{ data: Record<string, string | number>[] }>(
      `/v1/ohlcv?symbol=${SYMBOL}&interval=1s&start=${from}&end=${to}&limit=10000`,
    );
    const expected = data.map((c) => ({
      time: (c.open_time_us as number) / 1e6,
      open: Number(c.open),
      high: Number(c.high),
      low: Number(c.low),
      close: Number(c.close),
    }));
    expect(bars.map(({ time, open, high, low, close }) => ({ time, open, high, low, close }))).toEqual(
      expected,
    );

    mkdirSync(OUT_DIR, { recursive: true });
    const shot = join(OUT_DIR, "live-page.png");
    await page.screenshot({ path: shot });
    console.log(`screenshot: ${shot}`);

    // The market resumes: the first trade the API returns must be on the tape within 2 s.
    const before = await newestId();
    sim.applyFaults({ paused: false });
    let stored = before;
    await waitUntil(
      async () => {
        stored = await newestId();
        return stored > before;
      },
      5_000,
      "a new stored trade",
      { everyMs: 20 },
    );
    const t0 = performance.now();
    await page.waitForFunction(`${TAPE_TOP} >= ${stored}`, undefined, {
      timeout: TAPE_LATENCY_MS,
      polling: 20,
    });
    expect(performance.now() - t0).toBeLessThan(TAPE_LATENCY_MS);
    expect(browser.errorsOf(page)).toEqual([]);
    await page.close();
  }, 30_000);

  test("without a key the page asks for one, then goes live with it", async () => {
    const page = await browser.newPage();
    // The profile is shared by the pages of this run: forget the key the first test stored.
    await page.addInitScript(() => localStorage.removeItem("k2.apiKey"));
    await page.goto(`${k2.url}/`);
    await page.waitForSelector("#key-form:not([hidden])", { timeout: 5_000 });
    expect(await page.textContent("#key-error")).toBe("missing X-API-Key header");
    await page.fill("#key-input", KEY);
    await page.click("#key-form button[type=submit]");
    await page.waitForSelector("#tape tbody tr", { timeout: 5_000 });
    expect(await page.isHidden("#key-form")).toBe(true);
    // The only errors are the browser's own notes of the refused (401) requests before the key.
    for (const e of browser.errorsOf(page)) expect(e).toContain("401");
    await page.close();
  }, 15_000);

  test("/docs renders the API reference with nothing from outside", async () => {
    const page = await browser.newPage();
    await page.goto(`${k2.url}/docs`);
    await page.waitForSelector(".opblock", { timeout: 5_000 });
    expect(await page.locator(".opblock-summary-path").allTextContents()).toContain("/v1/ohlcv");
    expect(browser.errorsOf(page)).toEqual([]);
    expect(browser.outside).toEqual([]);
    await page.close();
  }, 15_000);

  test("K2 drains and exits 0 at once while a live page is open", async () => {
    const page = await browser.newPage();
    await page.addInitScript((key) => localStorage.setItem("k2.apiKey", key), KEY);
    await page.goto(`${k2.url}/`);
    await page.waitForSelector("#tape tbody tr", { timeout: 5_000 });
    // Bun's graceful stop waits for open responses: the page's stream must not hold it.
    const { code, ms } = await k2.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(5_000);
    await page.close();
  }, 15_000);
});
