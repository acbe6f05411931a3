/**
 * The hand-over between two K2 processes on one data dir and one port (the one-command upgrade):
 * "blue" owns the folder and serves; "green" is started the ordinary way. JSON lines over the
 * owner's control channel (lock.ts), one connection for the whole conversation:
 *
 *   green → blue  {op:"handover", pid, version, host, port}   blue pauses compaction/retention
 *   green         opens its WebSocket sessions; frames are staged (make-before-break)
 *   green → blue  {op:"cut", first:{"table:SYMBOL": id}}      blue waits until it has itself
 *                 received each of green's first ids (the two overlap), stops ingesting, makes
 *                 every row visible in Parquet, empties its WAL and gives up the lock; answers
 *                 {last:{…}, openGaps:[…]}
 *   green         takes the lock, opens storage, ingests the staged frames (its sequencer, seeded
 *                 from the files, drops what blue stored), repairs blue's open gaps, serves on
 *                 the port beside blue (SO_REUSEPORT)
 *   green → blue  {op:"serving", url}                         blue stops accepting, finishes the
 *                 requests in flight and exits 0
 *
 * Faults: green gone before the cut → blue resumes maintenance, nothing else changed; green
 * gone after it → blue takes the lock back and restarts its pipeline in-process. Blue gone at
 * any point → green takes the free lock and starts as after a crash (blue's WAL is replayed).
 * Blue silent past K2_HANDOVER_TIMEOUT_MS → green exits 2 and blue is untouched.
 */
import type { Logger } from "../obs/logger.ts";
import type { HandedOver, OpenGap, Pipeline } from "../pipeline/index.ts";
import type { Intake } from "../pipeline/source.ts";
import { type Claim, newOwnerInfo, type OwnerInfo, tryClaim } from "./claim.ts";
import { ControlClient, lockName, type Peer } from "./lock.ts";
import type { HandoverResult } from "./metrics.ts";

/** Blue keeps ingesting at least this long after green's sessions opened, for quiet symbols. */
export const OVERLAP_MIN_MS = 250;
const POLL_MS = 10;

export class HandoverError extends Error {
  readonly kind = "handover";
  readonly retryable = false;
}

type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: string };

// ---------------------------------------------------------------------------------------------
// Blue: the owner's side.

export interface BlueDeps {
  readonly host: string;
  /** The port this process serves on (bound: never 0 here). */
  port(): number;
  readonly timeoutMs: number;
  pipeline(): Pipeline;
  readonly claim: Claim;
  readonly log: Logger;
  /** Green serves on the port: stop accepting HTTP, finish what is in flight, exit 0. */
  finish(): void;
  /** Green went away after the cut: restart the pipeline on the folder this process owns again. */
  restart(): Promise<void>;
  /** Counted in k2_handover_total (metrics.ts). */
  onResult(result: HandoverResult): void;
}

export class BlueSide {
  #state: "idle" | "agreed" | "cutting" | "cut" | "done" = "idle";
  #peer = 0;
  #peerClosed = false;
  #agreedAtMs = 0;

  constructor(private readonly d: BlueDeps) {}

  get state(): string {
    return this.#state;
  }

  async handle(req: unknown, peer: Peer): Promise<Reply> {
    const r = (req ?? {}) as {
      op?: string;
      pid?: number;
      host?: string;
      port?: number;
      first?: Record<string, number>;
      deadlineMs?: number;
    };
    switch (r.op) {
      case "handover":
        return this.#hello(r, peer);
      case "cut":
        if (this.#state !== "agreed" || peer.id !== this.#peer)
          return { ok: false, error: "no hand-over agreed on this connection" };
        return this.#cut(r.first ?? {}, r.deadlineMs ?? Number.POSITIVE_INFINITY);
      case "serving":
        if (this.#state !== "cut" || peer.id !== this.#peer)
          return { ok: false, error: "no cut made on this connection" };
        this.#state = "done";
        this.d.log.info({ to_pid: r.pid }, "handover: the new K2 serves; stopping");
        setTimeout(() => this.d.finish(), 0); // after this answer is written
        return { ok: true };
      default:
        return { ok: false, error: `unknown op ${JSON.stringify(r.op)}` };
    }
  }

  async #hello(r: { pid?: number; host?: string; port?: number }, peer: Peer): Promise<Reply> {
    if (this.#state !== "idle") {
      this.d.onResult("refused");
      return { ok: false, error: `a hand-over is already under way (state ${this.#state})` };
    }
    const port = this.d.port();
    if (r.host !== this.d.host || r.port !== port) {
      this.d.onResult("refused");
      return {
        ok: false,
        error: `a hand-over needs the same address: this K2 serves ${this.d.host}:${port}, the new one asked for ${r.host}:${r.port} (K2_HOST/K2_PORT)`,
      };
    }
    this.#state = "agreed";
    this.#peer = peer.id;
    this.#peerClosed = false;
    this.#agreedAtMs = performance.now();
    peer.onClose(() => void this.#peerGone());
    await this.d.pipeline().pauseMaintenance();
    this.d.log.info({ from_pid: r.pid }, "handover: agreed; compaction and retention paused");
    return { ok: true };
  }

  /**
   * `deadlineMs` (wall clock) is when the newcomer stops waiting for the answer: a request read
   * after it (this process was frozen, say) must not stop ingesting for a peer that gave up.
   */
  async #cut(first: Record<string, number>, deadlineMs: number): Promise<Reply> {
    const p = this.d.pipeline();
    const deadline = performance.now() + this.d.timeoutMs;
    const late = () => Date.now() >= deadlineMs;
    const covered = () => {
      const last = p.lastIds();
      const overlapped = performance.now() - this.#agreedAtMs >= OVERLAP_MIN_MS;
      return overlapped && Object.entries(first).every(([k, id]) => last[k] === undefined || last[k]! >= id);
    };
    while (!covered()) {
      if (performance.now() > deadline || this.#state !== "agreed" || late())
        return {
          ok: false,
          error: `this K2 did not receive the new one's first ids within ${this.d.timeoutMs} ms`,
        };
      await Bun.sleep(POLL_MS);
    }
    // A request read after its sender hung up (this process was frozen meanwhile): no cut.
    if (this.#peerClosed || late()) return { ok: false, error: "the new K2 went away or gave up" };
    this.#state = "cutting";
    const { openGaps } = await p.stopIngest();
    if (this.#peerClosed) {
      // Gone while this process stopped ingesting: it still owns the folder; start again.
      this.d.log.warn("handover: the new K2 went away during the cut; restarting the pipeline");
      this.d.onResult("abandoned_after_cut");
      await this.d.restart();
      this.#state = "idle";
      return { ok: false, error: "the new K2 went away" };
    }
    const last = p.lastIds();
    this.d.claim.stopListening();
    this.#state = "cut";
    this.d.log.info(
      { last: defined(last), open_gaps: openGaps.length },
      "handover: cut made, ingest stopped, lock released",
    );
    return { ok: true, last: defined(last), openGaps };
  }

  async #peerGone(): Promise<void> {
    this.#peerClosed = true;
    const was = this.#state;
    if (was === "cutting") return; // #cut sees it once ingest has stopped
    if (was === "agreed") {
      this.#state = "idle";
      this.d.pipeline().resumeMaintenance();
      this.d.log.warn("handover: the new K2 went away before the cut; carrying on");
      this.d.onResult("abandoned_before_cut");
    } else if (was === "cut") {
      // It had the lock or was about to take it; if it is gone, the folder is ours again.
      if (!this.d.claim.retake()) {
        this.d.log.warn("handover: the new K2 hung up but owns the data dir; stopping");
        this.#state = "done";
        this.d.finish();
        return;
      }
      this.d.log.warn("handover: the new K2 went away after the cut; taking the data dir back");
      this.d.onResult("abandoned_after_cut");
      await this.d.restart();
      this.#state = "idle";
    }
  }
}

function defined(last: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(last).filter(([, v]) => v >= 0));
}

// ---------------------------------------------------------------------------------------------
// Green: the newcomer's side.

export interface GreenSummary {
  from_pid: number;
  cut: Record<string, number>;
  first: Record<string, number>;
  overlap_ms: number;
  staged_frames: number;
  /** True when blue went away mid-way and this K2 started as after a crash (WAL replay). */
  owner_lost: boolean;
}

export class GreenSide {
  claim: Claim | undefined;
  readonly summary: GreenSummary;
  #startedMs = performance.now();

  private constructor(
    private readonly client: ControlClient,
    private readonly dataDir: string,
    private readonly version: string,
    private readonly timeoutMs: number,
    owner: OwnerInfo,
  ) {
    this.summary = {
      from_pid: owner.pid,
      cut: {},
      first: {},
      overlap_ms: 0,
      staged_frames: 0,
      owner_lost: false,
    };
  }

  /** Ask the owner for a hand-over. Throws HandoverError (one line for the operator) on a refusal. */
  static async begin(
    dataDir: string,
    owner: OwnerInfo,
    me: { version: string; host: string; port: number; timeoutMs: number },
  ): Promise<GreenSide> {
    const client = await ControlClient.connect(lockName(dataDir));
    if (!client)
      throw new HandoverError(
        `data dir ${dataDir}: K2 pid ${owner.pid} ended while asked for a hand-over; start again`,
      );
    const reply = (await client.request(
      { op: "handover", pid: process.pid, version: me.version, host: me.host, port: me.port },
      me.timeoutMs,
    )) as Reply | null;
    if (!reply) {
      client.close();
      throw new HandoverError(
        `data dir ${dataDir}: K2 pid ${owner.pid} did not answer a hand-over within ${me.timeoutMs} ms; it keeps the data dir`,
      );
    }
    if (!reply.ok) {
      client.close();
      throw new HandoverError(
        `data dir ${dataDir} is in use by K2 pid ${owner.pid} (${owner.url ?? "starting"}), which refused a hand-over: ${reply.error}`,
      );
    }
    return new GreenSide(client, dataDir, me.version, me.timeoutMs, owner);
  }

  /** buildPipeline's takeOver: runs with the sessions open and staging, before storage opens. */
  async takeOver(intake: Intake): Promise<HandedOver> {
    const deadline = this.#startedMs + this.timeoutMs;
    const source = intake.source;
    // Every session open and delivering: green's first ids are then on the wire for blue too.
    while (!source.shardStatus().every((s) => s.open && s.lastFrameMs > 0)) {
      if (this.client.closed) return this.#ownerLost(intake);
      if (performance.now() > deadline)
        throw new HandoverError(
          `hand-over: the new K2's sessions did not deliver within ${this.timeoutMs} ms`,
        );
      await Bun.sleep(POLL_MS);
    }
    const first = Object.fromEntries(intake.staging.firstIds);
    const firstAtMs = performance.now();
    const waitMs = Math.max(1, deadline - performance.now());
    const reply = (await this.client.request(
      { op: "cut", first, deadlineMs: Date.now() + waitMs },
      waitMs,
    )) as (Reply & { last?: Record<string, number>; openGaps?: OpenGap[] }) | null;
    if (!reply) {
      if (this.client.closed) return this.#ownerLost(intake);
      throw new HandoverError(
        `hand-over: K2 pid ${this.summary.from_pid} made no cut within ${this.timeoutMs} ms; it keeps the data dir`,
      );
    }
    if (!reply.ok) throw new HandoverError(`hand-over refused at the cut: ${reply.error}`);
    if (intake.staging.overflowed)
      throw new HandoverError("hand-over: the staging buffer filled before the cut");
    this.claim = await this.#take(deadline);
    Object.assign(this.summary, {
      cut: reply.last ?? {},
      first,
      overlap_ms: Math.round(performance.now() - firstAtMs),
      staged_frames: intake.staging.frames,
    });
    return { openGaps: reply.openGaps ?? [] };
  }

  /** Tell blue this process serves on the port; blue then stops and exits. */
  async serving(url: string): Promise<void> {
    if (this.summary.owner_lost) return;
    await this.client.request({ op: "serving", pid: process.pid, url }, this.timeoutMs);
    this.client.close();
  }

  /** Blue ended mid-way: its lock is free, its WAL holds what it had; start as after a crash. */
  async #ownerLost(intake: Intake): Promise<HandedOver> {
    this.summary.owner_lost = true;
    this.claim = await this.#take(this.#startedMs + this.timeoutMs);
    this.summary.staged_frames = intake.staging.frames;
    return { openGaps: [] };
  }

  async #take(deadline: number): Promise<Claim> {
    const info = newOwnerInfo(this.dataDir, this.version);
    for (;;) {
      const c = tryClaim(this.dataDir, info);
      if (c) return c;
      if (performance.now() > deadline)
        throw new HandoverError(
          `hand-over: the data dir's lock was not released within ${this.timeoutMs} ms`,
        );
      await Bun.sleep(POLL_MS);
    }
  }
}
