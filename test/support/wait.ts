/** The one bounded wait of the tests: poll `cond` until true; past `timeoutMs` throw, naming `what`. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  o: {
    /** More for the error (e.g. the last log lines of the process being waited on). */
    detail?: () => string;
    /** Conditions are often HTTP requests: 25 ms stays under K2's per-client rate limit. */
    everyMs?: number;
  } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) {
      const more = o.detail ? `\n${o.detail()}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${more}`);
    }
    await Bun.sleep(o.everyMs ?? 25);
  }
}
