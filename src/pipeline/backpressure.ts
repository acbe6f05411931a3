/**
 * Backpressure: stop reading the sockets while the ring is nearly full, start again once the sink
 * has drained it well below that. A paused socket leaves frames in the kernel and the exchange's
 * send buffer instead of a full ring refusing rows (each refusal becomes a gap to repair over REST).
 * Two thresholds, not one: a ring hovering around a single level would flap the sockets on every
 * 5 ms consumer tick.
 */

/** Ring fill at or above which the sockets are paused. */
export const PAUSE_FILL = 0.9;
/** Ring fill at or below which paused sockets are resumed. */
export const RESUME_FILL = 0.5;

export interface BackpressureActions {
  pause(fill: number): void;
  resume(fill: number): void;
}

export class Backpressure {
  #paused = false;
  /** Transitions so far (metrics, tests). */
  pauses = 0;
  resumes = 0;

  constructor(
    private readonly actions: BackpressureActions,
    readonly pauseAt = PAUSE_FILL,
    readonly resumeAt = RESUME_FILL,
  ) {
    if (!(resumeAt >= 0 && resumeAt < pauseAt && pauseAt <= 1))
      throw new RangeError(`need 0 ≤ resumeAt < pauseAt ≤ 1, got resumeAt ${resumeAt}, pauseAt ${pauseAt}`);
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Feed the current ring fill (0..1); pauses or resumes at most once per call. */
  update(fill: number): void {
    if (!this.#paused && fill >= this.pauseAt) {
      this.#paused = true;
      this.pauses++;
      this.actions.pause(fill);
    } else if (this.#paused && fill <= this.resumeAt) {
      this.#paused = false;
      this.resumes++;
      this.actions.resume(fill);
    }
  }
}
