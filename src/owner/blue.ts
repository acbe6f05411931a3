/** The owner's side of the hand-over ("blue"); the protocol is described in handover.ts. */
import type { Logger } from "../obs/logger.ts";
import type { Pipeline } from "../pipeline/index.ts";
import type { Claim } from "./claim.ts";
import type { Peer } from "./lock.ts";
import type { HandoverResult } from "./metrics.ts";
import { OVERLAP_MIN_MS, POLL_MS, type Reply } from "./protocol.ts";

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
    const last = defined(p.lastIds());
    this.d.claim.stopListening();
    this.#state = "cut";
    this.d.log.info(
      { last, open_gaps: openGaps.length },
      "handover: cut made, ingest stopped, lock released",
    );
    return { ok: true, last, openGaps };
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
