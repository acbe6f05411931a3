/**
 * `bun run backfill` is `k2 backfill` with Bun's allocator told to keep freed pages
 * (MIMALLOC_PURGE_DELAY=-1: 1.6× the rows/s, native-bench/README.md "backfill", fourth pass).
 * The setting only works from the environment a process starts with, so the package.json script
 * starts it through scripts/batch-alloc.sh; mimalloc's verbose mode prints the options each Bun
 * process started with.
 */
import { expect, test } from "bun:test";
import { ROOT } from "../support/k2-process.ts";

function run(script: string, ...args: string[]) {
  const env: Record<string, string | undefined> = { ...process.env, MIMALLOC_VERBOSE: "1" };
  delete env.MIMALLOC_PURGE_DELAY;
  const r = Bun.spawnSync([process.execPath, "run", script, ...args, "--help"], {
    cwd: ROOT,
    env,
    timeout: 15_000,
  });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

test("`bun run backfill` starts k2 backfill with purge_delay -1; `bun run k2 backfill` keeps Bun's default", () => {
  const tuned = run("backfill");
  expect(tuned.code).toBe(0);
  expect(tuned.out).toContain("k2 backfill --symbols LIST");
  expect(tuned.out).toMatch(/option 'purge_delay': -1\b/);

  const plain = run("k2", "backfill");
  expect(plain.code).toBe(0);
  expect(plain.out).toContain("k2 backfill --symbols LIST");
  expect(plain.out).toMatch(/option 'purge_delay': \d+/);
  expect(plain.out).not.toMatch(/option 'purge_delay': -1\b/);
});
