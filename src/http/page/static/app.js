// The live page: history from /v1 (symbols, candles, gaps), what happens next from /page/live
// (SSE), the order book from /v1/book/stream (book.js) where K2 keeps one. Plain browser JavaScript served as is: no bundler, no framework, no CDN.
/* global LightweightCharts */
import { bookOff, followBook } from "/page/book.js";
import { readEvents } from "/page/live.js";

const KEY_ITEM = "k2.apiKey"; // shared with /docs (docs.js), so "Try it out" works with a keyed K2
const HISTORY_CANDLES = 300;
const TAPE_MAX = 60;
const INTERVAL_S = { "1s": 1, "1m": 60, "5m": 300 };
const RETRY_MS = 2000;
const $ = (id) => document.getElementById(id);

const params = new URLSearchParams(location.search);
const state = { symbol: params.get("symbol") ?? "", interval: params.get("interval") ?? "1m", abort: null };
if (!(state.interval in INTERVAL_S)) state.interval = "1m";
let gapsSeen = "";
let newestTradeId = -1; // top of the tape; a reconnecting stream starts after it
let statusCount = 0;
const SYMBOLS_EVERY_STATUS = 10; // the coverage table, about every 10 s

function headers() {
  const key = localStorage.getItem(KEY_ITEM);
  return key ? { "X-API-Key": key } : {};
}

function askForKey(message) {
  $("key-form").hidden = false;
  $("key-error").textContent = message;
  $("key-input").focus();
}

/** GET a /v1 JSON endpoint; a 401 opens the key form. */
async function api(path) {
  const res = await fetch(path, { headers: headers(), cache: "no-store" });
  const body = await res.json();
  if (res.status === 401) askForKey(body.error.message);
  if (!res.ok) throw new Error(body.error?.message ?? `${path}: HTTP ${res.status}`);
  return body;
}

const chart = LightweightCharts.createChart($("chart"), {
  autoSize: true,
  layout: { background: { color: "#19212a" }, textColor: "#d8dee6" },
  grid: { vertLines: { color: "#222c36" }, horzLines: { color: "#222c36" } },
  timeScale: { timeVisible: true, secondsVisible: true },
});
const series = chart.addSeries(LightweightCharts.CandlestickSeries, {
  priceFormat: { type: "price", precision: 2, minMove: 0.01 },
});
const bar = (c) => ({
  time: c.open_time_us / 1e6,
  open: Number(c.open),
  high: Number(c.high),
  low: Number(c.low),
  close: Number(c.close),
});
// For the browser test and for anyone curious in the console: what the chart holds.
window.k2 = { series, state };

/** Exact decimal text without trailing zeros ("600.09000000" → "600.09"). */
const trim = (d) => (d.includes(".") ? d.replace(/\.?0+$/, "") : d);

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function row(cells, attrs = {}) {
  const tr = document.createElement("tr");
  for (const c of cells) tr.append(c);
  for (const [k, v] of Object.entries(attrs)) tr.setAttribute(k, v);
  return tr;
}

function showTrades(trades) {
  const body = $("tape").tBodies[0];
  // Newest first in the event; the newest goes on top, and none is shown twice.
  for (const t of [...trades].reverse()) {
    if (t.trade_id <= newestTradeId) continue;
    newestTradeId = t.trade_id;
    const side = t.side === "BUY" ? "buy" : "sell";
    const r = row(
      [
        cell(t.trade_time_iso.slice(11, 23)),
        cell(trim(t.price), side),
        cell(trim(t.quantity)),
        cell(t.side, side),
        cell(String(t.trade_id), "muted"),
      ],
      { "data-trade-id": String(t.trade_id) },
    );
    body.prepend(r);
  }
  while (body.rows.length > TAPE_MAX) body.deleteRow(-1);
}

function showCandles(candles) {
  const last = series.data().at(-1);
  try {
    for (const c of candles) {
      const b = bar(c);
      // An update older than the last bar is allowed only as a historical update (v5 API).
      series.update(b, last !== undefined && b.time < last.time);
    }
  } catch {
    // A late trade opened a candle between two the chart has: reload the history instead.
    loadCandles().catch(showError);
  }
}

function ms(v) {
  if (v === null) return "no data";
  return v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`;
}

function showStatus(s) {
  $("s-rate").textContent = s.ingest_rows_per_s ?? "–";
  $("s-fresh").textContent = ms(s.freshness_ms);
  $("s-fresh").className = s.freshness_ms !== null && s.freshness_ms < 5000 ? "good" : "bad";
  $("s-level").textContent = s.degradation ?? "–";
  $("s-level").className = s.degradation === "NORMAL" ? "good" : "bad";
  $("s-conn").textContent = s.source_connections_delivering ?? "–";
  $("s-reconn").textContent = s.source_reconnects ?? "–";
  $("s-streams").textContent = s.page_streams;
  const why = Object.entries(s.not_ready).map(([k, v]) => `${k}: ${v}`);
  $("s-ready").textContent = s.ready ? "yes" : `no (${why.join("; ")})`;
  $("s-ready").className = s.ready ? "good" : "bad";
  // The book panel follows /v1/book/stream where K2 keeps a book for the symbol; else it is hidden.
  if (s.book) followBook(state.symbol, headers, state.abort.signal);
  else bookOff();
  if (++statusCount % SYMBOLS_EVERY_STATUS === 0) loadSymbols().catch(showError);
  const seen = `${s.gaps.count}:${s.gaps.updated_at_us}`;
  if (seen !== gapsSeen) {
    gapsSeen = seen;
    loadGaps().catch(showError);
  }
}

async function loadGaps() {
  const { data } = await api(`/v1/gaps?symbol=${state.symbol}`);
  const body = $("gaps").tBodies[0];
  body.replaceChildren(
    ...data
      .slice(-50)
      .reverse()
      .map((g) =>
        row([
          cell(`${g.from_id}–${g.to_id}`),
          cell(g.table),
          cell(g.cause),
          cell(g.state, g.state === "repaired" ? "good" : g.state === "pending" ? "muted" : "bad"),
          cell(g.updated_at_iso.slice(11, 19)),
        ]),
      ),
  );
  if (data.length === 0) body.append(row([cell("no gaps", "muted")]));
}

async function loadSymbols() {
  const { data } = await api("/v1/symbols");
  $("symbols").tBodies[0].replaceChildren(
    ...data.map((c) =>
      row([cell(c.symbol), cell(c.table), cell(String(c.rows)), cell(c.last_time_iso.slice(0, 19))]),
    ),
  );
  const names = [...new Set(data.filter((c) => c.table === "trades").map((c) => c.symbol))];
  if (!names.includes(state.symbol)) state.symbol = names[0] ?? "";
  $("symbol").replaceChildren(...names.map((n) => new Option(n, n, false, n === state.symbol)));
}

async function loadCandles() {
  const iv = INTERVAL_S[state.interval];
  const start = new Date((Math.floor(Date.now() / 1000 / iv) - HISTORY_CANDLES) * iv * 1000).toISOString();
  const q = `symbol=${state.symbol}&interval=${state.interval}&start=${start}&limit=${HISTORY_CANDLES + 2}`;
  const { data } = await api(`/v1/ohlcv?${q}`);
  series.setData(data.map(bar));
}

function showError(e) {
  $("s-stream").textContent = e.message;
  $("s-stream").className = "bad";
}

/** (Re)start everything for the chosen symbol and interval; the stream retries until replaced. */
async function start() {
  state.abort?.abort();
  const abort = new AbortController();
  state.abort = abort;
  for (const b of document.querySelectorAll("#intervals button"))
    b.setAttribute("aria-pressed", String(b.dataset.interval === state.interval));
  history.replaceState(null, "", `?symbol=${state.symbol}&interval=${state.interval}`);
  $("tape").tBodies[0].replaceChildren();
  newestTradeId = -1;
  gapsSeen = "";
  let reload = true; // the candle history is loaded first, and again after any failure
  while (!abort.signal.aborted) {
    let ended = false;
    try {
      if (reload) await loadCandles();
      reload = false;
      $("s-stream").textContent = "live";
      $("s-stream").className = "good";
      const after = newestTradeId >= 0 ? `&after=${newestTradeId}` : "";
      await readEvents(
        `/page/live?symbol=${state.symbol}&interval=${state.interval}${after}`,
        headers(),
        (name, data) => {
          if (name === "trades") showTrades(data);
          else if (name === "candles") showCandles(data);
          else if (name === "status") showStatus(data);
          else if (name === "end") ended = true;
          else if (name === "error") showError(new Error(data.message));
        },
        abort.signal,
      );
    } catch (e) {
      if (abort.signal.aborted) return;
      if (e.status === 401) askForKey(e.message);
      showError(e);
      reload = true;
    }
    // K2 ends a stream when it renews it or stops (its drain never waits on a page): go on at once.
    if (!ended) await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

async function boot() {
  try {
    await loadSymbols();
    if (!state.symbol) return showError(new Error("no trades stored yet: reload in a moment"));
    await start();
  } catch (e) {
    showError(e);
  }
}

$("symbol").addEventListener("change", (e) => {
  state.symbol = e.target.value;
  start();
});
for (const b of document.querySelectorAll("#intervals button"))
  b.addEventListener("click", () => {
    state.interval = b.dataset.interval;
    start();
  });
$("key-button").addEventListener("click", () => askForKey(""));
$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  localStorage.setItem(KEY_ITEM, $("key-input").value);
  $("key-form").hidden = true;
  boot();
});
boot();
