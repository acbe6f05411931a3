/**
 * One K2 per data dir, as an operator meets it: a second K2 on an owned folder, a port another
 * program holds, a SIGKILLed owner, two K2 started at once on a fresh folder. Every refusal is
 * one line and exit 2, given before the refused process opened anything in the folder.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator } from "../../src/sim/index.ts";
import { waitUntil } from "../support/bounded-run.ts";
import { type K2Process, runK2, startK2 } from "../support/k2-process.ts";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "k2-own-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function owner(dataDir: string): Promise<K2Process> {
  const k = await startK2({ K2_DATA_DIR: dataDir });
  cleanups.push(() => k.cleanup());
  await waitUntil(async () => (await fetch(`${k.url}/health/ready`)).status === 200, 10_000, "owner ready");
  return k;
}

/** Every entry below `dir`, relative, sorted: what a refused process must not have added to. */
function tree(dir: string, rel = ""): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true })
    .flatMap((e) => {
      const p = join(rel, e.name);
      return e.isDirectory() ? [p, ...tree(dir, p)] : [p];
    })
    .sort();
}

test("K2_HANDOVER=refuse: a second K2 on an owned data dir exits 2 with one line naming the owner", async () => {
  const dir = tempDir();
  const first = await owner(dir);
  const walBefore = readdirSync(join(dir, "wal")).sort();
  const r = await runK2([], { K2_DATA_DIR: dir, K2_PORT: "0", K2_HANDOVER: "refuse" });
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines.length).toBe(1);
  expect(lines[0]).toBe(
    `k2: data dir ${dir} is in use by K2 pid ${first.proc.pid} (${first.url}/, version ${lines[0]!.match(/version ([^)]+)\)/)?.[1]}); stop it first: two K2 processes never write one data dir (K2_HANDOVER=refuse)`,
  );
  expect(r.stdout).not.toContain("WAL"); // refused before the pipeline opened anything
  expect(readdirSync(join(dir, "wal")).sort()).toEqual(walBefore);
  expect((await fetch(`${first.url}/health/ready`)).status).toBe(200);
  expect((await first.stop()).code).toBe(0);
});

test("no hand-over to a K2 on another port, nor with the embedded simulator: one line each, exit 2", async () => {
  const dir = tempDir();
  const market = await startSimulator({ symbols: ["BTCUSDT"], ratePerSec: 50 });
  cleanups.push(() => market.stop());
  const env = {
    K2_SOURCE: "binance",
    K2_BINANCE_WS_URL: market.wsUrl,
    K2_BINANCE_REST_URL: market.restUrl,
    K2_SYMBOLS: "BTCUSDT",
    K2_CONNECT_MIN_INTERVAL_MS: "0",
    K2_DATA_DIR: dir,
  };
  const first = await startK2(env);
  cleanups.push(() => first.cleanup());
  const otherPort = await runK2([], { ...env, K2_PORT: "0" });
  expect(otherPort.code).toBe(2);
  expect(otherPort.stderr.trim()).toBe(
    `k2: data dir ${dir} is in use by K2 pid ${first.proc.pid} (${first.url}/), which refused a hand-over: a hand-over needs the same address: this K2 serves 127.0.0.1:${new URL(first.url).port}, the new one asked for 127.0.0.1:0 (K2_HOST/K2_PORT)`,
  );
  const sim = await runK2([], { K2_DATA_DIR: dir, K2_PORT: new URL(first.url).port });
  expect(sim.code).toBe(2);
  expect(sim.stderr.trim().split("\n").length).toBe(1);
  expect(sim.stderr).toContain(
    "a hand-over needs one market both processes share, and K2_SOURCE=sim starts one inside each",
  );
  expect((await fetch(`${first.url}/health/live`)).status).toBe(200); // the owner carries on
  expect((await first.stop()).code).toBe(0);
});

test("a port held by another program: one line, exit 2, nothing created in the data dir", async () => {
  const dir = tempDir();
  const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not k2") });
  cleanups.push(() => other.stop(true));
  const r = await runK2([], { K2_DATA_DIR: dir, K2_PORT: String(other.port) });
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(`k2: port ${other.port} on 127.0.0.1 is in use by another program (K2_PORT)`);
  expect(tree(dir)).toEqual([]);
});

test("a SIGKILLed owner leaves no lock behind: the next K2 starts at once", async () => {
  const dir = tempDir();
  const first = await owner(dir);
  await first.stop("SIGKILL");
  const second = await owner(dir);
  expect(second.proc.pid).not.toBe(first.proc.pid);
  expect((await second.stop()).code).toBe(0);
});

test("two K2 started at once on a fresh data dir: one owns it, the other exits 2 naming it", async () => {
  const dir = tempDir();
  const spawn = () =>
    startK2({ K2_DATA_DIR: dir }).then(
      (k) => {
        cleanups.push(() => k.cleanup());
        return k;
      },
      (e: Error) => e,
    );
  const [a, b] = await Promise.all([spawn(), spawn()]);
  const winners = [a, b].filter((x): x is K2Process => !(x instanceof Error));
  const losers = [a, b].filter((x): x is Error => x instanceof Error);
  expect(winners.length).toBe(1);
  expect(losers.length).toBe(1);
  expect(losers[0]!.message).toContain(`is in use by K2 pid ${winners[0]!.proc.pid}`);
  expect((await winners[0]!.stop()).code).toBe(0);
});
