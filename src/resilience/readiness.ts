/**
 * The readiness model behind /health/ready: each stage registers a named check; the process is
 * ready only when every check passes. A check is cheap and synchronous (it reads state the stage
 * keeps up to date), so /health/ready never blocks on I/O.
 */
export interface CheckResult {
  readonly ok: boolean;
  /** Why not ready (or a short status when ready). */
  readonly reason?: string;
}

export type Check = () => CheckResult;

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Record<string, CheckResult>;
}

export class Readiness {
  readonly #checks = new Map<string, Check>();

  register(name: string, check: Check): void {
    if (this.#checks.has(name)) throw new RangeError(`readiness check ${name} registered twice`);
    this.#checks.set(name, check);
  }

  report(): ReadinessReport {
    const checks: Record<string, CheckResult> = {};
    let ready = this.#checks.size > 0;
    for (const [name, check] of this.#checks) {
      let r: CheckResult;
      try {
        r = check();
      } catch (e) {
        r = { ok: false, reason: `check failed: ${(e as Error).message}` };
      }
      checks[name] = r;
      if (!r.ok) ready = false;
    }
    return { ready, checks };
  }
}
