/** The newcomer's side of the hand-over ("green"); the protocol is described in handover.ts. */
import type { HandedOver, OpenGap } from "../pipeline/index.ts";
import type { Intake } from "../pipeline/source.ts";
import { type Claim, newOwnerInfo, type OwnerInfo, tryClaim } from "./claim.ts";
import { ControlClient, lockName } from "./lock.ts";
import { HandoverError, POLL_MS, type Reply } from "./protocol.ts";

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
