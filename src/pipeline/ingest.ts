/**
 * The ingest subsystem: continuity (sequencer, gap ledger, REST client + breaker + gap repairer)
 * and the hot path (decode → continuity → WAL → ring). At start it recovers: ids already in files
 * seed the sequencer, frames adopted from `replay-in/` join the WAL, and what the WAL holds and no
 * file does goes back into the ring, exactly once; the previous owner's open gaps are enqueued.
 */
import { join } from "node:path";
import type { Catalog } from "../catalog/index.ts";
import { storedIdsOf } from "../catalog/views.ts";
import type { Config } from "../config/index.ts";
import { type SymbolLookup, statusName } from "../decode/binance/index.ts";
import { GapJournal, readJournal } from "../ingest/gap-journal.ts";
import { GapLedger } from "../ingest/gap-ledger.ts";
import { GapRepairer } from "../ingest/gap-repair.ts";
import { FrameTag, Ingest } from "../ingest/ingest.ts";
import { replayWal } from "../ingest/replay.ts";
import { Sequencer } from "../ingest/sequencer.ts";
import type { OpenGap } from "../model/gaps.ts";
import type { KlineColumns } from "../model/kline.ts";
import type { RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { TABLE_NAMES, Table, type TableId } from "../model/tables.ts";
import type { Logger } from "../obs/logger.ts";
import { CircuitBreaker } from "../resilience/circuit-breaker.ts";
import { DeadLetterBuffer } from "../ring/dead-letter.ts";
import type { Ring } from "../ring/ring.ts";
import type { Batcher } from "../sink/batcher.ts";
import { adoptReplayIn, type DlqPersister } from "../sink/dlq/index.ts";
import { readWal, type WalWriter } from "../sink/wal/index.ts";
import { nowUs } from "../source/binance/connection.ts";
import { BinanceRest } from "../source/binance/rest.ts";
import { TABLE_OF_STREAM } from "../source/binance/streams.ts";
import { RESUME_FILL } from "./backpressure.ts";
import type { Intake } from "./source.ts";
import { once, Timers } from "./subsystem.ts";

/** What ingest needs of storage: the WAL, the DLQ, the ring's consumer; the files, where they are local. */
export interface IngestStorage {
  readonly wal: WalWriter;
  readonly dlq: DlqPersister;
  readonly batcher: Batcher;
  /** Absent on a recorder: its rows are stored elsewhere, a replayed copy is the writers' to drop. */
  readonly catalog?: Catalog;
}

/** Nothing stored here: WAL replay re-sends every row it holds. */
const NOTHING_STORED = { idsBetween: async () => new Set<number>(), maxId: () => -1 };

export interface IngestDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly symbols: SymbolTable;
  readonly lookup: SymbolLookup;
  readonly ring: Ring;
  readonly storage: IngestStorage;
  readonly walSeqBySlot: Float64Array;
  readonly accepts: (table: TableId) => boolean;
  readonly onRow: (rows: RowColumns, slot: number) => void;
  /** Decoded kline frames (the completeness subsystem's reconciler), when K2_STREAMS lists kline. */
  readonly onKline?: (klines: KlineColumns, slot: number) => void;
  /** Depth frames (the order-book capture), when K2_STREAMS lists depth. */
  readonly onDepth?: (frame: string, recvTimeUs: number) => boolean;
}

export function openIngest(d: IngestDeps, intake: Intake) {
  const { config, log } = d;
  const { wal, dlq } = d.storage;
  // The ledger's history comes back from its journal (src/ingest/gap-journal.ts) and goes on in it.
  const ledger = new GapLedger();
  const journalDir = join(config.dataDir, "gaps");
  const restored = readJournal(journalDir, ledger.capacity);
  if (restored.skipped > 0) log.warn({ skipped: restored.skipped }, "gap journal: unreadable lines skipped");
  // Settled entries only: a gap an earlier run left open is derived again at start where it can
  // be (cause restart, WAL replay) and repaired under a new entry; repairing the old one as well
  // could store ids twice after a crash in the middle of its repair.
  ledger.restore(
    restored.entries.filter((e) => e.state !== "pending" && e.state !== "repairing"),
    restored.entries.at(-1)?.id ?? 0,
  );
  const journal = new GapJournal(journalDir, ledger.capacity, restored.lines);
  ledger.onChange = (e) => journal.note(e);
  const flushJournal = () => journal.flush(() => ledger.entries());
  const sequencer = new Sequencer();
  const deadLetters = new DeadLetterBuffer({ maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 });
  const rest = new BinanceRest({ baseUrl: intake.restUrl, weightBudgetPerMin: config.restWeightBudget });
  const restBreaker = new CircuitBreaker({
    name: "rest",
    failureThreshold: 5,
    openDurationMs: 10_000,
    onStateChange: (c) => log.warn({ from: c.from, to: c.to }, "REST breaker"),
  });
  let ingest: Ingest | undefined;
  const repairer = new GapRepairer({
    rest,
    ledger,
    breaker: restBreaker,
    emit: (frame, recv) => ingest?.onFrame(frame, recv, -1, FrameTag.REST),
    maxAttempts: config.gapRepairMaxAttempts,
    nowUs,
    // A page of repaired rows lands in the ring at once: only below the level at which paused
    // sockets resume is there room for it (rows a full ring refuses would be a new gap).
    canRepair: () => wal.lastError === null && d.ring.fillRatio() <= RESUME_FILL,
    onError: (e, g) =>
      log.warn(
        { symbol: g.symbol, from: g.from_id, to: g.to_id, attempts: g.attempts },
        `gap repair: ${e.message}`,
      ),
  });
  ingest = new Ingest({
    ring: d.ring,
    lookup: d.lookup,
    symbols: d.symbols,
    sequencer,
    ledger,
    deadLetters,
    wal,
    accepts: d.accepts,
    onRow: d.onRow,
    ...(d.onKline ? { onKline: d.onKline } : {}),
    ...(d.onDepth ? { onDepth: d.onDepth } : {}),
    onGap: (g) => {
      log.info(
        { table: g.table, symbol: g.symbol, from: g.from_id, to: g.to_id, cause: g.cause },
        "gap detected",
      );
      repairer.enqueue(g);
    },
    onServerShutdown: (shard) => intake.source.rotate(shard, "serverShutdown"),
    gapMaxIds: config.gapMaxIds,
    nowUs,
    walSeqBySlot: d.walSeqBySlot,
  });
  const hot = ingest;

  /** Move the in-memory dead letters to their files (the buffer only holds one interval's worth). */
  const persistDeadLetters = () => {
    for (const e of deadLetters.drain()) {
      dlq.append({
        frame: e.frame,
        status: e.status,
        statusName: statusName(e.status),
        recvTimeUs: e.recv_time_us,
        source: e.label,
      });
    }
  };

  /** Before the sockets' frames: files seed the sequencer, then replay-in and the WAL are replayed. */
  const recover = async (handedGaps: readonly OpenGap[]) => {
    const { catalog, batcher } = d.storage;
    for (const t of TABLE_NAMES) {
      for (const s of d.symbols.names()) {
        const max = catalog?.maxId(t, s);
        if (max !== undefined) sequencer.seed(Table[t], d.symbols.id(s)!, max);
      }
    }
    // Frames recovered with `k2 dlq replay --out` (moved to <data>/replay-in/) join the WAL first,
    // so WAL replay applies the same exact-id dedupe to them.
    const replayIn = await adoptReplayIn(join(config.dataDir, "replay-in"), wal, FrameTag.REST);
    if (replayIn.files > 0 || replayIn.leftInPlace) log.info(replayIn, "replay-in adopted");
    const walLastSeq = wal.recovery.lastSeq;
    const replay = await replayWal({
      records: () => readWal(join(config.dataDir, "wal")),
      lookup: d.lookup,
      symbols: d.symbols,
      ring: d.ring,
      walSeqBySlot: d.walSeqBySlot,
      stored: catalog ? storedIdsOf(catalog) : NOTHING_STORED,
      sequencer,
      ledger,
      onGap: (g) => repairer.enqueue(g),
      makeRoom: async () => {
        batcher.drain();
        batcher.flushDue(true);
        await Bun.sleep(2);
      },
      onRow: d.onRow,
      nowUs,
      gapMaxIds: config.gapMaxIds,
    });
    log.info({ ...replay, wal_last_seq: walLastSeq }, "WAL replayed");
    // The previous owner's open gaps are ours to repair now (a hand-over passes them on).
    for (const g of handedGaps)
      repairer.enqueue(ledger.open(g.table, g.symbol, g.from_id, g.to_id, g.cause, nowUs()));
    const staged = intake.attach(hot);
    if (staged > 0) log.info({ frames: staged }, "staged frames ingested");
    return replay;
  };

  const timers = new Timers();
  return {
    name: "ingest",
    ledger,
    sequencer,
    deadLetters,
    rest,
    restBreaker,
    repairer,
    ingest: hot,
    recover,
    checks: {},
    start() {
      timers.every(1000, () => {
        persistDeadLetters();
        dlq.flush();
        hot.flushLosses();
        flushJournal();
      });
    },
    /** Last id accepted per "table:SYMBOL" of the subscribed streams (-1: none yet). */
    lastIds(): Record<string, number> {
      const out: Record<string, number> = {};
      for (const kind of config.streams) {
        const t = TABLE_OF_STREAM[kind];
        if (t === null) continue;
        for (const sym of d.symbols.names())
          out[`${t}:${sym}`] = sequencer.last(Table[t], d.symbols.id(sym)!);
      }
      return out;
    },
    /** Gaps still pending or under repair: a successor's to repair. */
    openGaps(): OpenGap[] {
      return ledger
        .entries()
        .filter((e) => e.state === "pending" || e.state === "repairing")
        .map(({ table, symbol, from_id, to_id, cause }) => ({ table, symbol, from_id, to_id, cause }));
    },
    // The sockets are stopped first (by the source subsystem): a page in flight ends its gap's
    // ledger entry, then losses and dead letters are written down.
    stop: once(async () => {
      repairer.stop();
      timers.clear();
      await repairer.whenIdle();
      hot.flushLosses();
      persistDeadLetters();
      journal.close(() => ledger.entries());
    }),
  };
}

export type IngestSide = ReturnType<typeof openIngest>;
