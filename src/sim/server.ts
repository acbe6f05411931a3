/**
 * The simulator engine: one Bun.serve carrying WebSocket streams, REST and the admin API on one
 * port. A tick timer advances every symbol's generator and sends the tick's frames to each
 * connection corked together; a housekeeping timer runs pings, pong deadlines and lifetime cuts.
 */
import type { Server } from "bun";
import { handleAdmin } from "./admin.ts";
import { ARCHIVE_PREFIX, ArchiveServer } from "./archive-http.ts";
import { ArchiveStore } from "./archive-store.ts";
import type { BookQuery, BookTruthSummary, TrueBook } from "./book-truth.ts";
import { renderDepth, renderTick, sendTick } from "./broadcast.ts";
import {
  admitMessage,
  type ConnData,
  newConnData,
  notePing,
  notePong,
  type SimSocket,
} from "./connection.ts";
import { applySwitches, type FaultPatch, type FaultSwitches, validateFaultPatch } from "./faults.ts";
import { type StreamFrames, shutdownJson, wrapCombined } from "./frames.ts";
import { SymbolGenerator, type TickBatch } from "./generator.ts";
import type { GroundTruth } from "./ground-truth.ts";
import { isValidSymbol, type SimOptions } from "./options.ts";
import { handleControl, parseConnectUrl } from "./protocol.ts";
import { handleRest } from "./rest.ts";
import { WeightLimiter } from "./rest-limits.ts";
import { RestLog, type RestLogEntry } from "./rest-log.ts";
import { createRng } from "./rng.ts";
import { SimStats, type SimStatsSnapshot } from "./stats.ts";

export class SimEngine {
  readonly faults: FaultSwitches;
  readonly stats = new SimStats();
  readonly restLog = new RestLog();
  private readonly generators = new Map<string, SymbolGenerator>();
  private readonly subscribers = new Map<string, Set<SimSocket>>();
  private readonly conns = new Set<SimSocket>();
  private readonly limiter: WeightLimiter;
  private readonly garbageRng;
  private readonly t0Ms = performance.now();
  private readonly startUs: number;
  readonly archiveStore: ArchiveStore | null;
  readonly archive: ArchiveServer;
  /** Per symbol: simulator time (µs) of the last in-progress kline update sent. */
  private readonly klineUpdatedUs = new Map<string, number>();
  private refuseUntilMs = 0;
  /** Simulator clock (µs) when `paused` was switched on; null while the market runs. */
  private pausedAtUs: number | null = null;
  private nextConnId = 1;
  private server: Server<ConnData> | undefined;
  private tickTimer: Timer | undefined;
  private houseTimer: Timer | undefined;

  constructor(readonly opts: Readonly<SimOptions>) {
    this.faults = {
      ...opts.faults,
      rest: { ...opts.faults.rest },
      depth: { ...opts.faults.depth },
      garbageKinds: [...opts.faults.garbageKinds],
    };
    this.startUs = (opts.startTimeMs ?? Date.now()) * 1000;
    this.limiter = new WeightLimiter({
      limit: opts.restWeightLimit,
      windowMs: opts.restWeightWindowMs,
      strikesBeforeBan: opts.restStrikesBeforeBan,
      banMs: opts.restBanMs,
    });
    this.garbageRng = createRng(opts.seed ^ 0x9e3779b9);
    this.archiveStore =
      opts.archiveDays > 0
        ? new ArchiveStore(ArchiveStore.historyStartUs(this.startUs, opts.archiveDays), this.startUs)
        : null;
    this.archive = new ArchiveServer(this.archiveStore);
    for (const s of opts.symbols) this.ensureGenerator(s, true);
    if (this.faults.paused) this.pausedAtUs = this.startUs;
  }

  /** Milliseconds on the monotonic clock since start: deadlines, lifetimes, refusals. */
  private monoMs(): number {
    return performance.now() - this.t0Ms;
  }

  /** The simulator's exchange clock in µs: fixed origin (startTimeMs) plus monotonic elapsed time. */
  nowUs(): number {
    return this.startUs + Math.floor(this.monoMs() * 1000);
  }

  start(): Server<ConnData> {
    const o = this.opts;
    this.server = Bun.serve<ConnData>({
      hostname: o.host,
      port: o.port,
      // REST slow-response faults may hold a request for a while; Bun's default is 10 s.
      idleTimeout: 255,
      fetch: (req, server) => this.fetch(req, server),
      websocket: {
        // Our own ping schedule and pong deadline replace Bun's idle-timeout pings.
        idleTimeout: 0,
        sendPings: false,
        maxPayloadLength: 64 * 1024,
        backpressureLimit: o.backpressureLimitBytes,
        closeOnBackpressureLimit: true,
        open: (ws) => this.onOpen(ws),
        message: (ws, msg) => this.onMessage(ws, msg),
        ping: (ws) => {
          this.countIncoming(ws);
        },
        pong: (ws) => {
          if (!notePong(ws.data)) this.countIncoming(ws);
        },
        close: (ws) => this.onClose(ws),
      },
    });
    this.tickTimer = setInterval(() => this.tick(), o.tickMs);
    // At most 50 ms so runtime-shortened lifetimes are cut promptly; a pass over the connections is cheap.
    const houseMs = Math.max(5, Math.min(50, Math.floor(Math.min(o.pingIntervalMs, o.pongTimeoutMs) / 4)));
    this.houseTimer = setInterval(() => this.housekeeping(), houseMs);
    return this.server;
  }

  async stop(): Promise<void> {
    clearInterval(this.tickTimer);
    clearInterval(this.houseTimer);
    for (const ws of this.conns) ws.terminate();
    await this.server?.stop(true);
  }

  private async fetch(req: Request, server: Server<ConnData>): Promise<Response | undefined> {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/api/")) {
      const ip = server.requestIP(req)?.address ?? "unknown";
      return handleRest(url, req, ip, {
        faults: this.faults,
        limiter: this.limiter,
        weightLimit: this.opts.restWeightLimit,
        generator: (s) => this.generators.get(s),
        generators: () => this.generators.values(),
        nowUs: () => this.nowUs(),
        countRest: (status) => this.stats.countRest(status),
        logRest: (e: RestLogEntry) => this.restLog.add(e),
      });
    }
    if (url.pathname.startsWith("/admin/")) return handleAdmin(url, req, this);
    if (url.pathname.startsWith(ARCHIVE_PREFIX)) return this.archive.handle(url.pathname);
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return new Response("Not Found", { status: 404 });
    if (this.monoMs() < this.refuseUntilMs) {
      this.stats.refusedUpgrades++;
      return new Response("Service Unavailable", { status: 503 });
    }
    const parsed = parseConnectUrl(url, this.opts.maxStreamsPerConnection, this.opts.books);
    if (typeof parsed === "string") return new Response(parsed, { status: 400 });
    for (const s of parsed.streams) this.ensureGenerator(s.symbol, false);
    const data = newConnData(
      this.nextConnId++,
      parsed.streams.map((s) => s.name),
      parsed.combined,
      parsed.micros,
      this.opts.maxIncomingPerSec,
    );
    if (server.upgrade(req, { data })) return undefined;
    return new Response("Upgrade failed", { status: 400 });
  }

  private onOpen(ws: SimSocket): void {
    const d = ws.data;
    d.openedAtMs = this.monoMs();
    d.lastPingAtMs = d.openedAtMs;
    this.conns.add(ws);
    this.stats.connectionsTotal++;
    for (const name of d.initialStreams) this.subscribe(ws, name);
    if (!this.faults.answerPings) ws.pause();
  }

  private onClose(ws: SimSocket): void {
    this.conns.delete(ws);
    for (const name of ws.data.streams) this.subscribers.get(name)?.delete(ws);
    ws.data.streams.clear();
  }

  /** Close once: later housekeeping passes and ticks skip a connection already being closed. */
  private shut(
    ws: SimSocket,
    reason: keyof SimStats["disconnects"],
    code: number | "reset",
    text = "",
  ): void {
    if (ws.data.closing) return;
    ws.data.closing = true;
    this.stats.disconnects[reason]++;
    if (code === "reset") ws.terminate();
    else ws.close(code, text);
  }

  private countIncoming(ws: SimSocket): boolean {
    if (ws.data.closing) return false;
    this.stats.messagesReceived++;
    if (admitMessage(ws.data, this.monoMs())) return true;
    this.shut(ws, "rateLimit", 1008, "Too many messages");
    return false;
  }

  private onMessage(ws: SimSocket, msg: string | Buffer): void {
    if (!this.countIncoming(ws)) return;
    const text = typeof msg === "string" ? msg : msg.toString("utf8");
    const out = handleControl(text, ws.data, this.opts.maxStreamsPerConnection, this.opts.books);
    for (const r of out.subscribe ?? []) {
      this.ensureGenerator(r.symbol, false);
      this.subscribe(ws, r.name);
    }
    for (const name of out.unsubscribe ?? []) this.unsubscribe(ws, name);
    if (out.combined !== undefined) ws.data.combined = out.combined;
    ws.sendText(out.reply);
  }

  private subscribe(ws: SimSocket, name: string): void {
    ws.data.streams.add(name);
    let set = this.subscribers.get(name);
    if (!set) {
      set = new Set();
      this.subscribers.set(name, set);
    }
    set.add(ws);
  }

  private unsubscribe(ws: SimSocket, name: string): void {
    ws.data.streams.delete(name);
    this.subscribers.get(name)?.delete(ws);
  }

  generatorOf(symbol: string): SymbolGenerator | undefined {
    return this.generators.get(symbol);
  }

  /** Configured symbols always exist; others appear on first subscription when autoCreateSymbols. */
  ensureGenerator(symbol: string, configured: boolean): SymbolGenerator | undefined {
    let g = this.generators.get(symbol);
    if (g || !isValidSymbol(symbol) || !(configured || this.opts.autoCreateSymbols)) return g;
    const o = this.opts;
    if (!configured && this.generators.size >= o.maxSymbols) {
      // Like an unknown symbol on Binance: the subscription is accepted but carries no data.
      this.stats.symbolsRefused++;
      return undefined;
    }
    const archive = configured ? this.archiveStore : null;
    g = new SymbolGenerator(symbol, o, archive ? archive.fromUs : configured ? this.startUs : this.nowUs());
    if (archive) {
      g.rebase(archive.fromUs, o.archiveRatePerSec);
      archive.record(g, o.ratePerSec);
      g.book?.feed.discardPending();
    }
    this.generators.set(symbol, g);
    return g;
  }

  private tick(): void {
    if (this.faults.paused || this.readerBehind()) return;
    const nowUs = this.nowUs();
    const frames = new Map<string, StreamFrames>();
    const subscribed = (name: string) => (this.subscribers.get(name)?.size ?? 0) > 0;
    for (const g of this.generators.values()) {
      const batch: TickBatch = { trades: [], aggs: [], books: [], klines: [] };
      g.advance(nowUs, this.opts.maxTradesPerTick, batch);
      this.klinesOf(g, nowUs, batch, subscribed);
      this.stats.tradesGenerated += batch.trades.length;
      renderTick(g.symbol, batch, subscribed, frames, nowUs);
      if (g.book) {
        const depth = g.book.feed.due(nowUs);
        if (depth) renderDepth(g.symbol, depth, g.book, subscribed, frames);
      }
      // Published unless stalled, whether or not anyone listens: a recorder absent for a moment
      // (a restart) has lost those quotes, and the truth must show it.
      if (this.opts.recordQuoteIds && !this.faults.stall)
        for (const b of batch.books) g.truth.quotesSent.add(b.updateId);
    }
    // Stalled: generation (and so history and ground truth) goes on; sockets get nothing.
    if (this.faults.stall || frames.size === 0) return;
    sendTick(this.conns, frames, this.faults, this.stats, this.garbageRng);
  }

  /** With paceBytes on: some subscriber has more unsent bytes than that (the tick waits for it). */
  private readerBehind(): boolean {
    const limit = this.opts.paceBytes;
    if (limit === 0) return false;
    for (const ws of this.conns) {
      if (ws.data.closing || ws.getBufferedAmount() <= limit) continue;
      this.stats.ticksPaced++;
      return true;
    }
    return false;
  }

  /**
   * Closed minutes: those ending before the next scheduled trade and before now (every trade of
   * them exists, even when a tick's work bound left generation behind). The minute in progress
   * goes out at most once a second (Binance: "updates every second"), only to subscribers.
   */
  private klinesOf(
    g: SymbolGenerator,
    nowUs: number,
    batch: TickBatch,
    subscribed: (n: string) => boolean,
  ): void {
    g.klines.closeUntil(Math.min(nowUs, g.nextTradeTimeUs()));
    g.klines.takeClosed(batch.klines);
    if (!subscribed(`${g.symbol.toLowerCase()}@kline_1m`)) return;
    const last = this.klineUpdatedUs.get(g.symbol) ?? 0;
    if (batch.klines.length === 0 && nowUs - last < 1_000_000) return;
    const open = g.klines.current();
    if (open) batch.klines.push(open);
    this.klineUpdatedUs.set(g.symbol, nowUs);
  }

  private housekeeping(): void {
    const now = this.monoMs();
    const o = this.opts;
    const f = this.faults;
    for (const ws of this.conns) {
      const d = ws.data;
      if (d.closing) continue;
      if (now - d.openedAtMs >= f.maxLifetimeMs) {
        this.shut(ws, "lifetime", 1001, "Connection lifetime exceeded");
        continue;
      }
      // A paused socket (answerPings=false) cannot read the client's pongs: no deadline then.
      // A peer that stopped answering is not sent a close handshake it would not complete.
      if (!ws.isPaused && d.outstandingPings > 0 && now - d.firstUnansweredPingAtMs > o.pongTimeoutMs) {
        this.shut(ws, "pongTimeout", "reset");
        continue;
      }
      if (f.sendPings && !f.stall && now - d.lastPingAtMs >= o.pingIntervalMs) {
        ws.ping(String(Math.floor(this.nowUs() / 1000)));
        notePing(d, now);
      }
    }
  }

  /** Validate and apply a fault patch (switches and one-shot actions). Returns an error or null. */
  applyFaults(input: unknown): string | null {
    const err = validateFaultPatch(input);
    if (err) return err;
    const patch = input as FaultPatch;
    if (patch.skipDepthUpdates && !this.opts.books) return "skipDepthUpdates: needs book mode (option books)";
    const wasAnswering = this.faults.answerPings;
    applySwitches(this.faults, patch);
    this.notePause();
    if (wasAnswering !== this.faults.answerPings) {
      const now = this.monoMs();
      for (const ws of this.conns) {
        if (this.faults.answerPings) {
          ws.resume();
          if (ws.data.outstandingPings > 0) ws.data.firstUnansweredPingAtMs = now;
        } else ws.pause();
      }
    }
    if (patch.refuseForMs !== undefined) this.refuseUntilMs = this.monoMs() + patch.refuseForMs;
    if (patch.skipTradeIds)
      this.forSymbols(patch.skipTradeIds.symbol, (g) => g.skip(patch.skipTradeIds!.count));
    if (patch.loseTradeIds)
      this.forSymbols(patch.loseTradeIds.symbol, (g) => g.lose(patch.loseTradeIds!.count));
    if (patch.skipDepthUpdates)
      this.forSymbols(patch.skipDepthUpdates.symbol, (g) => g.book?.feed.skip(patch.skipDepthUpdates!.count));
    if (patch.klineCountOff)
      this.forSymbols(patch.klineCountOff.symbol, (g) =>
        g.klines.falsifyNextCount(patch.klineCountOff!.delta),
      );
    if (patch.archive) this.archive.setFault({ period: "daily", ...patch.archive.file }, patch.archive.fault);
    if (patch.serverShutdown) this.sendShutdown();
    if (patch.dropAll) this.dropAll(patch.dropAll);
    return null;
  }

  /** On resume, every generator's schedule moves by the time spent paused: no burst of backlog. */
  private notePause(): void {
    if (this.faults.paused && this.pausedAtUs === null) this.pausedAtUs = this.nowUs();
    if (!this.faults.paused && this.pausedAtUs !== null) {
      const pausedUs = this.nowUs() - this.pausedAtUs;
      for (const g of this.generators.values()) g.shiftSchedule(pausedUs);
      this.pausedAtUs = null;
    }
  }

  private forSymbols(symbol: string | undefined, fn: (g: SymbolGenerator) => void): void {
    if (symbol === undefined) for (const g of this.generators.values()) fn(g);
    else {
      const g = this.ensureGenerator(symbol, false);
      if (g) fn(g);
    }
  }

  private sendShutdown(): void {
    const now = this.nowUs();
    for (const ws of this.conns) {
      if (ws.data.closing) continue;
      const raw = shutdownJson(now, ws.data.micros);
      ws.sendText(ws.data.combined ? wrapCombined("!serverShutdown", raw) : raw);
    }
  }

  private dropAll(mode: "close" | "reset"): void {
    for (const ws of this.conns)
      this.shut(ws, "dropped", mode === "reset" ? "reset" : 1001, "Server closing");
  }

  faultState(): FaultSwitches & { refuseRemainingMs: number } {
    return { ...this.faults, refuseRemainingMs: Math.max(0, Math.ceil(this.refuseUntilMs - this.monoMs())) };
  }

  groundTruth(): GroundTruth {
    const symbols: GroundTruth["symbols"] = {};
    for (const g of this.generators.values()) {
      symbols[g.symbol] = {
        ...g.truth.snapshot(g.symbol, g.history.oldestTradeId()),
        book: this.bookSummary(g.symbol),
      };
    }
    return { timeMs: Math.floor(this.nowUs() / 1000), symbols };
  }

  /** Book mode: the true book after an update id or at an instant (see BookTruth.bookAt); null if unknown. */
  bookAt(symbol: string, q: BookQuery, levels?: number): TrueBook | null {
    return this.generators.get(symbol)?.book?.truth.bookAt(symbol, q, levels) ?? null;
  }

  /** Book mode: E (µs) of the 100 ms diff event ending at update id u (BookTruth.publishedUsOf). */
  diffEventUs(symbol: string, u: number): number | null {
    return this.generators.get(symbol)?.book?.truth.publishedUsOf(u) ?? null;
  }

  /** Book mode: what bookAt can answer for a symbol and the diff events dropped; null without a book. */
  bookSummary(symbol: string): BookTruthSummary | null {
    const b = this.generators.get(symbol)?.book;
    if (!b) return null;
    const r = b.truth.range();
    return {
      updateId: b.updateId,
      oldestUpdateId: r.oldestUpdateId,
      oldestTimeUs: r.oldestTimeUs,
      newestTimeUs: r.newestTimeUs,
      droppedDiffs: {
        "100ms": b.feed.dropped["100ms"].map((x) => [x[0], x[1]]),
        "1000ms": b.feed.dropped["1000ms"].map((x) => [x[0], x[1]]),
      },
    };
  }

  statsSnapshot(): SimStatsSnapshot {
    return this.stats.snapshot(this.conns.size, this.generators.size);
  }
}
