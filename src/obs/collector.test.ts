import { expect, test } from "bun:test";
import { FullCollector } from "./collector.ts";
import { Registry } from "./metrics.ts";

/** Objects nothing references once this returns, each watched by a WeakRef. */
function garbage(n: number): WeakRef<object>[] {
  return Array.from({ length: n }, (_, i) => new WeakRef({ i, payload: new Array(256).fill(i) }));
}

test("collect() frees what nothing references and counts how long it took", async () => {
  const c = new FullCollector(0);
  const refs = garbage(200);
  await Bun.sleep(0); // WeakRef targets stay alive until the job that made them ends
  c.collect();
  // The stack is scanned conservatively, so a stray word may keep one or two alive: not 200.
  expect(refs.filter((r) => r.deref() !== undefined).length).toBeLessThan(10);
  c.collect();
  expect(c.runs).toBe(2);
  expect(c.totalMs).toBeGreaterThan(0);
  expect(c.maxMs).toBeGreaterThan(0);
  expect(c.maxMs).toBeLessThanOrEqual(c.totalMs);
});

test("runs every interval once started, never with interval 0, and stops", async () => {
  const off = new FullCollector(0);
  off.start();
  const on = new FullCollector(20);
  on.start();
  await Bun.sleep(150);
  on.stop();
  const runs = on.runs;
  expect(runs).toBeGreaterThanOrEqual(2);
  expect(off.runs).toBe(0);
  await Bun.sleep(60);
  expect(on.runs).toBe(runs); // stopped: no more collections
});

test("its counters are on /metrics", () => {
  const reg = new Registry();
  const c = new FullCollector(0);
  c.register(reg);
  expect(reg.render()).toMatch(/^k2_memory_rss_after_full_gc_bytes NaN$/m);
  c.collect();
  const text = reg.render();
  expect(text).toMatch(/^k2_gc_full_total 1$/m);
  expect(text).toMatch(/^k2_gc_full_seconds_total \d/m);
  expect(text).toMatch(/^k2_gc_full_max_seconds \d/m);
  // RSS as read right after the collection: this process's, within what it held around it.
  const after = Number(/^k2_memory_rss_after_full_gc_bytes (\S+)$/m.exec(text)?.[1]);
  expect(after).toBe(c.rssAfterBytes);
  expect(after).toBeGreaterThan(10 * 2 ** 20);
  expect(after).toBeLessThanOrEqual(process.resourceUsage().maxRSS * 1024);
});
