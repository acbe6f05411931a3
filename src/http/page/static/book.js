// The live page's order-book panel: a ladder of the top levels of the selected symbol's book,
// fed by /v1/book/stream (SSE, the same answers as GET /v1/book). Shown only where K2 keeps a
// book for the symbol (the /page/live status record says so); a book that is not synced is
// labelled as such and shows no levels, never stale ones as if they were good.
import { readEvents } from "/page/live.js";

/** Levels per side in the ladder. */
export const BOOK_LEVELS = 10;
/** At most one book event this often (the stream's `interval`, ms); enough for the eye. */
const BOOK_INTERVAL_MS = 250;
/** The stream is renewed this often (seconds), so a long-open page re-checks its key. */
const BOOK_STREAM_S = 300;
const RETRY_MS = 2000;
const $ = (id) => document.getElementById(id);

/** Exact decimal text without trailing zeros ("600.09000000" → "600.09"). */
const trim = (d) => (d.includes(".") ? d.replace(/\.?0+$/, "") : d);

/** What each live state means to a reader (src/book/capture.ts: idle / waiting / synced). */
const STATE_TEXT = {
  synced: "synced",
  waiting: "not synced: waiting for a snapshot",
  idle: "not synced: no data yet",
};

let following = null; // { symbol, abort } of the stream being read

function setState(text, cls) {
  $("book-state").textContent = text;
  $("book-state").className = cls;
  $("book").dataset.state = cls === "good" ? "synced" : "not-synced";
}

function clearLadder(note) {
  const tr = document.createElement("tr");
  const td = document.createElement("td");
  td.colSpan = 4;
  td.className = "muted";
  td.textContent = note;
  tr.append(td);
  $("book-asks").replaceChildren();
  $("book-bids").replaceChildren(tr);
  $("book-spread").replaceChildren();
}

/**
 * One ladder row. The bar is the cumulative quantity from the best price, as a share of the
 * deepest side shown: Number() is fine for a bar's width (display only, never stored).
 */
function levelRow(side, level, cumulative, widest) {
  const tr = document.createElement("tr");
  tr.dataset.side = side;
  tr.dataset.state = level.state;
  if (level.state !== "exact") tr.className = `level-${level.state}`;
  tr.title = `${level.state}, last known ${new Date(level.known_time_us / 1000).toISOString()}`;
  const price = document.createElement("td");
  price.textContent = trim(level.price);
  price.className = side === "bid" ? "buy" : "sell";
  const qty = document.createElement("td");
  qty.textContent = trim(level.quantity);
  const mark = document.createElement("td");
  // exact levels carry no mark; beyond / unverified ones are named (rebuild.ts defines them).
  mark.textContent = level.state === "exact" ? "" : level.state;
  mark.className = "level-mark";
  const bar = document.createElement("td");
  bar.className = "depth";
  const fill = document.createElement("div");
  fill.className = side;
  fill.style.width = `${widest > 0 ? ((100 * cumulative) / widest).toFixed(1) : 0}%`;
  bar.append(fill);
  tr.append(price, qty, mark, bar);
  return tr;
}

/** ask − bid exactly: K2's decimals have 8 places, so they are integers of 1e-8 (no float drift). */
function spread8(ask, bid) {
  const d = BigInt(ask.replace(".", "")) - BigInt(bid.replace(".", ""));
  const neg = d < 0n;
  const s = (neg ? -d : d).toString().padStart(9, "0");
  return trim(`${neg ? "-" : ""}${s.slice(0, -8)}.${s.slice(-8)}`);
}

function cumulate(levels) {
  let sum = 0;
  return levels.map((l) => {
    sum += Number(l.quantity);
    return sum;
  });
}

/** Renders one /v1/book answer: state, update id and the ladder, all at once. */
function showBook(a) {
  $("book-u").textContent = String(a.update_id);
  $("book").dataset.updateId = String(a.update_id);
  $("book-ladder").classList.remove("stale");
  if (a.state !== "synced") {
    setState(STATE_TEXT[a.state] ?? `not synced: ${a.state}`, "bad");
    clearLadder("no levels while the book is not synced");
    return;
  }
  setState(STATE_TEXT.synced, "good");
  const bidSums = cumulate(a.bids);
  const askSums = cumulate(a.asks);
  const widest = Math.max(bidSums.at(-1) ?? 0, askSums.at(-1) ?? 0);
  // Asks above, the best ask nearest the spread; bids below, best first.
  $("book-asks").replaceChildren(...a.asks.map((l, i) => levelRow("ask", l, askSums[i], widest)).reverse());
  $("book-bids").replaceChildren(...a.bids.map((l, i) => levelRow("bid", l, bidSums[i], widest)));
  const spread = document.createElement("tr");
  const td = document.createElement("td");
  td.colSpan = 4;
  td.className = "muted";
  td.textContent =
    a.bids.length === 0 || a.asks.length === 0
      ? "one side empty"
      : `spread ${spread8(a.asks[0].price, a.bids[0].price)}`;
  spread.append(td);
  $("book-spread").replaceChildren(spread);
}

/** K2 keeps no book for this symbol (K2_STREAMS without depth): the panel is hidden. */
export function bookOff() {
  following?.abort.abort();
  following = null;
  $("book").hidden = true;
  $("book").dataset.state = "off";
}

/**
 * Follow the book of `symbol` until `signal` aborts (the page switched symbol) or bookOff();
 * calling it again for the same symbol changes nothing. The stream reconnects after its `end`
 * at once and after a failure in RETRY_MS, showing the ladder as stale meanwhile.
 */
export function followBook(symbol, headers, signal) {
  if (following && following.symbol === symbol && !following.abort.signal.aborted) return;
  following?.abort.abort();
  const abort = new AbortController();
  signal.addEventListener("abort", () => abort.abort(), { once: true });
  following = { symbol, abort };
  $("book").hidden = false;
  $("book-symbol").textContent = symbol;
  setState("connecting…", "muted");
  clearLadder("");
  const url = `/v1/book/stream?symbol=${symbol}&levels=${BOOK_LEVELS}&interval=${BOOK_INTERVAL_MS}&max_seconds=${BOOK_STREAM_S}`;
  (async () => {
    while (!abort.signal.aborted) {
      let ended = false;
      try {
        await readEvents(
          url,
          headers(),
          (name, data) => {
            if (name === "book") showBook(data);
            else if (name === "end") ended = true;
          },
          abort.signal,
        );
      } catch (e) {
        if (abort.signal.aborted) return;
        setState(`disconnected: ${e.message}`, "bad");
      }
      if (abort.signal.aborted) return;
      if (!ended) {
        // What is on screen is no longer live: say so until the stream is back.
        if (!$("book-state").textContent.startsWith("disconnected")) setState("disconnected", "bad");
        $("book-ladder").classList.add("stale");
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  })();
}
