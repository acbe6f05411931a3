/**
 * Live kline reconciliation (issue 17 part 1): every closed 1m kline of a symbol is checked
 * against the trades K2 stored for that minute, and the minute gets a verdict (kline-verdicts.ts).
 *
 * Hot side: `push` copies a closed kline's fields into a preallocated queue (struct of arrays,
 * KLINE_QUEUE_MINUTES deep); no allocation, a full queue is counted and the minute left unjudged.
 * Cold side, once a second: a minute is judged when the trades up to its last id `L` are visible
 * in Parquet — visible, not merely durable in the WAL, because the verdict speaks for what a
 * query and a certificate read, and the stored decimals are what must reproduce the kline. The
 * check reads the minute's ids from the catalog's files through DuckDB (a few hundred rows).
 *
 * Outcomes (kline-check.ts): equal → verified, or repaired when a ledger entry covering its ids
 * was repaired; a shortfall with ids no ledger entry names → those ids are ledgered
 * `kline_shortfall` and repaired from REST as any gap, and the minute is judged again after;
 * a surplus, a value that differs, or a shortfall nothing can repair → mismatch: an alarm
 * (k2_kline_alarms_total + a `kline_mismatch` ledger entry); not visible within
 * KLINE_CHECK_DEADLINE_US → unverified.
 */
import type { GapEntry, GapLedger } from "../ingest/gap-ledger.ts";
import { allocKlineColumns, type KlineColumns, NO_TRADE_ID } from "../model/kline.ts";
import type { SymbolTable } from "../model/symbols.ts";
import type { Logger } from "../obs/logger.ts";
import type { CounterChild, Registry } from "../obs/metrics.ts";
import type { Duck } from "../query/duck.ts";
import type { FileSource } from "../query/types.ts";
import { checkKline, type KlineFacts } from "./kline-check.ts";
import { type MissedRest, missedMinutes, type RestMinute, restKlines, restMinute } from "./kline-missed.ts";
import { appendVerdict, KLINE_VERDICTS, type KlineVerdict, type MinuteVerdict } from "./kline-verdicts.ts";

/** Closed minutes waiting to be judged, all symbols: 4096 ≈ 68 minutes of 60 symbols. */
export const KLINE_QUEUE_MINUTES = 4096;
/** A minute whose trades are not visible (or whose repair has not settled) this long after its kline is unverified. */
export const KLINE_CHECK_DEADLINE_US = 300_000_000;
/** How often queued minutes are looked at. */
export const KLINE_CHECK_INTERVAL_MS = 1000;
/** A missed minute (kline-missed.ts) waits longer for its trades: a restart's repair may run a while. */
export const KLINE_MISSED_DEADLINE_US = 1_800_000_000;
/**
 * How long missing rows may still be on their way: a shortfall without a repairer is judged a
 * mismatch this long after its kline was queued (another recorder's copy, a recorder's own REST
 * repair, a backlog may still bring them), a writer repairs a shortfall only after it
 * (`repairAfterUs`), and rows a repair fetched are waited for this long after it settled (they
 * pass through the ring or the bus before they are in a file).
 */
export const KLINE_UNREPAIRED_GRACE_US = 20_000_000;
/** After a start, missed minutes are asked for once the sockets are up and a restart gap is ledgered. */
const CATCH_UP_DELAY_MS = 5000;
/** A failed catch-up (REST refused, unreachable) is tried again this much later. */
const CATCH_UP_RETRY_MS = 60_000;
/** Tries in all: a symbol's first kline may take a while (a slow connect), a REST outage longer. */
const CATCH_UP_TRIES = 30;

const SELECT_MINUTE =
  "SELECT trade_id, price, quantity FROM read_parquet($1::VARCHAR[], hive_partitioning = false) " +
  "WHERE symbol = $2 AND trade_id BETWEEN $3 AND $4 ORDER BY trade_id";

interface Minute extends KlineFacts {
  readonly symbol: string;
  readonly openUs: number;
  readonly closeUs: number;
  readonly queuedAtUs: number;
  /** Ledger entries this reconciliation opened for the minute's missing ids. */
  shortfall: GapEntry[];
  /** From REST after a start (kline-missed.ts), not from the stream. */
  readonly missed?: true;
}

export interface ReconcilerDeps {
  readonly dataDir: string;
  readonly symbols: SymbolTable;
  readonly files: FileSource;
  readonly duck: Duck;
  /**
   * The gap ledger and the REST repairer (as ingest has them for a stream gap). Both absent in a
   * role `writer` (docs/SCALING.md "Completeness in the roles"): it has neither, so a shortfall
   * waits KLINE_UNREPAIRED_GRACE_US for rows still on their way and is then a mismatch.
   */
  readonly repair?: { readonly ledger: GapLedger; readonly enqueue: (gap: GapEntry) => void };
  /**
   * A shortfall is repaired only this long after its kline was queued (default 0). A single
   * process's ledger says which ids its own repairs are still fetching; a writer cannot see the
   * recorders' ledgers, so it waits for their repairs first (KLINE_UNREPAIRED_GRACE_US).
   */
  readonly repairAfterUs?: number;
  /** A shortfall wider than this is ledgered unrepaired, as K2_GAP_MAX_IDS does for stream gaps. */
  readonly gapMaxIds: number;
  readonly nowUs: () => number;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Binance's REST, to judge the minutes the stream did not give (absent: they stay unjudged). */
  readonly rest?: MissedRest;
  /**
   * False: no catch-up of its own after start(); the caller asks with queueMissed (a writer, whose
   * symbols and "first kline" come over the bus, not from its configuration). Default true.
   */
  readonly catchUpAtStart?: boolean;
}

export class KlineReconciler {
  readonly #q: KlineColumns = allocKlineColumns(KLINE_QUEUE_MINUTES);
  #head = 0;
  #size = 0;
  readonly #pending: Minute[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #catchUpTimer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  /** Minutes fetched from REST after this start, judged like live ones. */
  missed = 0;
  /** Per symbol id, the open time of the first kline this run received (the stream's "now" at start). */
  readonly #firstOpen = new Map<number, number>();
  readonly #caughtUp = new Set<string>();
  /** Closed klines refused by a full queue (their minutes have no verdict). */
  refused = 0;
  /** Closed klines received. */
  closed = 0;
  readonly verdicts: Record<KlineVerdict, number> = { verified: 0, repaired: 0, mismatch: 0, unverified: 0 };
  readonly #alarm: CounterChild | undefined;

  constructor(readonly deps: ReconcilerDeps) {
    const r = deps.registry;
    if (r) {
      const by = r.gauge("k2_kline_minutes_total", "closed 1m klines judged, by verdict (counter semantics)");
      const refresh = r.gauge("k2_kline_refresh", "1 (kline verdict gauges refreshed at scrape)", () => {
        for (const v of KLINE_VERDICTS) by.setWith({ verdict: v }, this.verdicts[v]);
        return 1;
      });
      void refresh;
      r.counter(
        "k2_kline_closed_total",
        "closed 1m klines received (queued for the check)",
        () => this.closed,
      );
      r.counter(
        "k2_kline_missed_total",
        "kline minutes the stream did not give, fetched from REST after a start and judged",
        () => this.missed,
      );
      r.counter(
        "k2_kline_queue_refused_total",
        "closed klines dropped by a full check queue",
        () => this.refused,
      );
      this.#alarm = r
        .counter("k2_kline_alarms_total", "klines that disagree with the stored trades (mismatch verdicts)")
        .with({});
    }
  }

  /** Hot path: a decoded kline row; only closed minutes are kept. Allocation-free. */
  push(k: KlineColumns, slot: number): void {
    const sym = k.symbol_id[slot]!;
    if (!this.#firstOpen.has(sym)) this.#firstOpen.set(sym, k.open_time_us[slot]!); // once per symbol
    if (k.closed[slot] !== 1) return;
    this.closed++;
    if (this.#size === KLINE_QUEUE_MINUTES) {
      this.refused++;
      return;
    }
    const q = this.#q;
    const i = (this.#head + this.#size) % KLINE_QUEUE_MINUTES;
    q.symbol_id[i] = sym;
    q.open_time_us[i] = k.open_time_us[slot]!;
    q.close_time_us[i] = k.close_time_us[slot]!;
    q.first_id[i] = k.first_id[slot]!;
    q.last_id[i] = k.last_id[slot]!;
    q.trades[i] = k.trades[slot]!;
    q.open[i] = k.open[slot]!;
    q.high[i] = k.high[slot]!;
    q.low[i] = k.low[slot]!;
    q.close[i] = k.close[slot]!;
    q.volume[i] = k.volume[slot]!;
    q.quote_volume[i] = k.quote_volume[slot]!;
    q.event_time_us[i] = this.deps.nowUs();
    this.#size++;
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      this.#running ??= this.tick().finally(() => {
        this.#running = undefined;
      });
    }, KLINE_CHECK_INTERVAL_MS);
    if (this.deps.rest && this.deps.catchUpAtStart !== false)
      this.#scheduleCatchUp(CATCH_UP_DELAY_MS, CATCH_UP_TRIES);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    clearTimeout(this.#catchUpTimer);
    this.#timer = undefined;
    await this.#running;
  }

  #scheduleCatchUp(delayMs: number, tries: number): void {
    this.#catchUpTimer = setTimeout(() => {
      this.catchUp().then(
        (done) => {
          if (!done && tries > 1 && this.#timer) this.#scheduleCatchUp(CATCH_UP_DELAY_MS, tries - 1);
        },
        (e) => {
          this.deps.log.warn(`kline catch-up from REST failed: ${(e as Error).message}`);
          if (tries > 1 && this.#timer) this.#scheduleCatchUp(CATCH_UP_RETRY_MS, tries - 1);
        },
      );
    }, delayMs);
  }

  /**
   * Queue, from REST, the minutes without a verdict before the first kline this run received per
   * symbol (kline-missed.ts): stream time, not this machine's clock. True when every symbol was
   * done; a symbol whose first kline has not arrived yet is left for the next try.
   */
  async catchUp(): Promise<boolean> {
    const d = this.deps;
    if (!d.rest) return true;
    let done = true;
    for (const symbol of d.symbols.names()) {
      if (this.#caughtUp.has(symbol)) continue;
      const firstOpen = this.#firstOpen.get(d.symbols.id(symbol) ?? -1);
      if (firstOpen === undefined) {
        done = false;
        continue;
      }
      await this.queueMissed(symbol, missedMinutes(d.dataDir, symbol, firstOpen));
      this.#caughtUp.add(symbol);
    }
    return done;
  }

  /**
   * Queue the minutes `opens` (ascending open times, µs) of `symbol` from REST, judged like live
   * ones: the catch-up above, and a writer's when a symbol's klines stopped for a while
   * (roles/writer-klines.ts). All or none: a REST failure throws before any is queued.
   */
  async queueMissed(symbol: string, opens: readonly number[]): Promise<number> {
    const d = this.deps;
    if (!d.rest || opens.length === 0) return 0;
    const minutes: RestMinute[] = [];
    for (const k of await restKlines(d.rest, symbol, opens))
      minutes.push(await restMinute(d.rest, symbol, k));
    for (const m of minutes) {
      this.#pending.push({ ...m, symbol, queuedAtUs: d.nowUs(), shortfall: [], missed: true });
      this.missed++;
    }
    d.log.info(
      { symbol, minutes: opens.length, from_rest: minutes.length },
      "kline minutes missed on the stream: judged from REST",
    );
    return minutes.length;
  }

  /** Minutes queued or waiting for their trades. */
  get backlog(): number {
    return this.#size + this.#pending.length;
  }

  /** Judge every minute that can be judged now. */
  async tick(): Promise<void> {
    this.#drainQueue();
    const keep: Minute[] = [];
    for (const m of this.#pending.splice(0)) {
      try {
        if (!(await this.#judge(m))) keep.push(m);
      } catch (e) {
        this.deps.log.warn(
          { symbol: m.symbol, open_time_us: m.openUs },
          `kline check: ${(e as Error).message}`,
        );
        keep.push(m);
      }
    }
    this.#pending.push(...keep);
  }

  #drainQueue(): void {
    const q = this.#q;
    const names = this.deps.symbols;
    while (this.#size > 0) {
      const i = this.#head;
      this.#pending.push({
        symbol: names.name(q.symbol_id[i]!),
        openUs: q.open_time_us[i]!,
        closeUs: q.close_time_us[i]!,
        firstId: q.first_id[i]!,
        lastId: q.last_id[i]!,
        count: q.trades[i]!,
        open: q.open[i]!,
        high: q.high[i]!,
        low: q.low[i]!,
        close: q.close[i]!,
        volume: q.volume[i]!,
        quoteVolume: q.quote_volume[i]!,
        queuedAtUs: q.event_time_us[i]!,
        shortfall: [],
      });
      this.#head = (this.#head + 1) % KLINE_QUEUE_MINUTES;
      this.#size--;
    }
  }

  /** True when the minute got its verdict; false to look again at the next tick. */
  async #judge(m: Minute): Promise<boolean> {
    const d = this.deps;
    const late = d.nowUs() - m.queuedAtUs > (m.missed ? KLINE_MISSED_DEADLINE_US : KLINE_CHECK_DEADLINE_US);
    if (m.count === 0 || m.firstId === NO_TRADE_ID) {
      this.#verdict(m, 0, "verified", "no trades in the minute: no ids to check");
      return true;
    }
    const visible = d.files.maxId("trades", m.symbol) ?? -1;
    const overlapping = (d.repair?.ledger.entries({ symbol: m.symbol, table: "trades" }) ?? []).filter(
      (e) => e.from_id <= m.lastId && e.to_id >= m.firstId && e.cause !== "kline_mismatch",
    );
    const settling = overlapping.some((e) => e.state === "pending" || e.state === "repairing");
    if (visible < m.lastId || settling) {
      if (!late) return false;
      this.#verdict(
        m,
        -1,
        "unverified",
        settling
          ? `a repair of ids in [${m.firstId}, ${m.lastId}] had not settled within ${KLINE_CHECK_DEADLINE_US / 1e6} s`
          : `trades up to id ${m.lastId} were not visible in Parquet within ${KLINE_CHECK_DEADLINE_US / 1e6} s`,
      );
      return true;
    }
    const r = checkKline(m, await this.#stored(m));
    if (r.outcome === "ok") {
      const repaired = m.shortfall.length > 0 || overlapping.some((e) => e.state === "repaired");
      this.#verdict(m, r.stored, repaired ? "repaired" : "verified", repaired ? "stored after a repair" : "");
      return true;
    }
    if (r.outcome === "shortfall" && !d.repair) {
      if (d.nowUs() - m.queuedAtUs < KLINE_UNREPAIRED_GRACE_US) return false;
      this.#alarmFor(m, r.stored, `${r.detail} (no REST repair here)`);
      return true;
    }
    if (r.outcome === "shortfall" && !late) {
      const uncovered = r.missing.filter(
        ([f, l]) => !overlapping.some((e) => e.from_id <= f && e.to_id >= l) && !this.#opened(m, f, l),
      );
      if (uncovered.length > 0) {
        if (d.nowUs() - m.queuedAtUs < (d.repairAfterUs ?? 0)) return false;
        for (const [f, l] of uncovered) this.#openShortfall(m, f, l);
        return false;
      }
      // Every missing id was fetched by a repair that settled moments ago: its rows are on their
      // way to a file (the ring's next flush, or the bus and a writer's gathering).
      const arriving =
        r.missing.length > 0 &&
        r.missing.every(([f, l]) =>
          overlapping.some(
            (e) =>
              e.state === "repaired" &&
              e.from_id <= f &&
              e.to_id >= l &&
              d.nowUs() - e.updated_at_us < KLINE_UNREPAIRED_GRACE_US,
          ),
        );
      if (arriving) return false;
    }
    this.#alarmFor(m, r.stored, r.detail);
    return true;
  }

  #opened(m: Minute, f: number, l: number): boolean {
    return m.shortfall.some((e) => e.from_id <= f && e.to_id >= l);
  }

  #openShortfall(m: Minute, from: number, to: number): void {
    const d = this.deps;
    if (!d.repair) return;
    const e = d.repair.ledger.open("trades", m.symbol, from, to, "kline_shortfall", d.nowUs());
    m.shortfall.push(e);
    d.log.info(
      { symbol: m.symbol, from, to, open_time_us: m.openUs },
      "kline shortfall: ids ledgered for repair",
    );
    if (d.repair.ledger.refuseOversized(e, d.gapMaxIds, d.nowUs())) return;
    d.repair.enqueue(e);
  }

  #alarmFor(m: Minute, stored: number, detail: string): void {
    const d = this.deps;
    // Without a ledger (a writer) the verdict and the alarm metric are the record.
    const ledger = d.repair?.ledger;
    const e = ledger?.open("trades", m.symbol, m.firstId, m.lastId, "kline_mismatch", d.nowUs());
    if (e) ledger?.set(e, "unrepaired", d.nowUs(), detail);
    this.#alarm?.inc();
    d.log.warn({ symbol: m.symbol, open_time_us: m.openUs, gap_id: e?.id }, `kline mismatch: ${detail}`);
    this.#verdict(m, stored, "mismatch", detail);
  }

  async #stored(m: Minute) {
    const d = this.deps;
    const files = d.files.files({ table: "trades", symbol: m.symbol, fromUs: m.openUs, toUs: m.closeUs + 1 });
    const inRange = files.filter((f) => f.minId <= m.lastId && f.maxId >= m.firstId).map((f) => f.path);
    if (inRange.length === 0) return { ids: [], prices: [], quantities: [] };
    const unpin = d.files.pin?.(inRange);
    try {
      const c = await d.duck.query(SELECT_MINUTE, [
        { files: inRange },
        { text: m.symbol },
        { int: m.firstId },
        { int: m.lastId },
      ]);
      return {
        ids: c.data[0] as number[],
        prices: c.data[1] as bigint[],
        quantities: c.data[2] as bigint[],
      };
    } finally {
      unpin?.();
    }
  }

  #verdict(m: Minute, stored: number, verdict: KlineVerdict, detail: string): void {
    this.verdicts[verdict]++;
    const v: MinuteVerdict = {
      symbol: m.symbol,
      open_time_us: m.openUs,
      first_id: m.firstId,
      last_id: m.lastId,
      trades: m.count,
      stored,
      verdict,
      detail: m.missed
        ? `REST kline (missed on the stream), ids from aggTrades${detail ? `: ${detail}` : ""}`
        : detail,
      checked_at_us: this.deps.nowUs(),
    };
    appendVerdict(this.deps.dataDir, v);
  }
}
