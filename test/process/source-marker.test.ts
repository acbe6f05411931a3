/**
 * One market per data dir, as an operator meets it: a folder written by the embedded simulator is
 * refused to a K2 on Binance (and the reverse, and another venue host), in one line, exit 2, with
 * nothing in the folder touched; a K2 restarted against the same simulator on a new port starts;
 * an s3:// data dir keeps its marker in K2_LOCAL_DIR; a recorder checks it like a single process.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runK2, startK2 } from "../support/k2-process.ts";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "k2-marker-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Every entry below `dir` with its size and mtime: what a refused K2 must leave as it was. */
function snapshot(dir: string, rel = ""): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true })
    .flatMap((e) => {
      const p = join(rel, e.name);
      const st = statSync(join(dir, p));
      const me = `${p} ${st.size} ${st.mtimeMs}`;
      return e.isDirectory() ? [me, ...snapshot(dir, p)] : [me];
    })
    .sort();
}

function closedPort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** K2 on a standalone simulator's address (nothing listens: K2 serves and retries all the same). */
const onLoopbackVenue = (port: number) => ({
  K2_SOURCE: "binance",
  K2_BINANCE_WS_URL: `ws://127.0.0.1:${port}`,
  K2_BINANCE_REST_URL: `http://127.0.0.1:${port}`,
  K2_SYMBOLS: "BTCUSDT",
});

test("a demo's folder is refused to a K2 on Binance: one line, exit 2, nothing touched", async () => {
  const dir = tempDir();
  const demo = await startK2({ K2_DATA_DIR: dir, K2_SYMBOLS: "BTCUSDT" });
  cleanups.push(() => demo.cleanup());
  expect((await demo.stop()).code).toBe(0);
  const before = snapshot(dir);
  expect(before.some((e) => e.startsWith("wal "))).toBe(true);

  // Binance on loopback (a standalone simulator's address): the test never leaves the machine.
  const real = await runK2([], { ...onLoopbackVenue(closedPort()), K2_DATA_DIR: dir, K2_PORT: "0" });
  expect(real.code).toBe(2);
  expect(real.stderr.trim()).toBe(
    `k2: data dir ${dir} holds data recorded from the embedded simulator (K2_SOURCE=sim), and this K2 records from binance at 127.0.0.1: one folder never mixes two markets; use another K2_DATA_DIR`,
  );
  expect(real.stdout).toBe(""); // refused before the logger said anything
  expect(snapshot(dir)).toEqual(before);
});

test("the same standalone simulator on a new port is the same market; another host is not", async () => {
  const dir = tempDir();
  const first = await startK2({ ...onLoopbackVenue(closedPort()), K2_DATA_DIR: dir });
  cleanups.push(() => first.cleanup());
  expect((await first.stop()).code).toBe(0);
  expect(JSON.parse(readFileSync(join(dir, "k2-source.json"), "utf8"))).toMatchObject({
    source: "binance",
    host: "127.0.0.1",
  });

  const again = await startK2({ ...onLoopbackVenue(closedPort()), K2_DATA_DIR: dir });
  cleanups.push(() => again.cleanup());
  expect((await again.stop()).code).toBe(0);

  const before = snapshot(dir);
  const sim = await runK2([], { K2_DATA_DIR: dir, K2_PORT: "0", K2_SOURCE: "sim" });
  expect(sim.code).toBe(2);
  expect(sim.stderr.trim().split("\n")).toEqual([
    `k2: data dir ${dir} holds data recorded from binance at 127.0.0.1, and this K2 records from the embedded simulator (K2_SOURCE=sim): one folder never mixes two markets; use another K2_DATA_DIR (make demo uses ./data-demo)`,
  ]);
  const elsewhere = await runK2([], {
    ...onLoopbackVenue(closedPort()),
    K2_BINANCE_WS_URL: `ws://localhost:${closedPort()}`, // another host name, still loopback
    K2_DATA_DIR: dir,
    K2_PORT: "0",
  });
  expect(elsewhere.code).toBe(2);
  expect(elsewhere.stderr).toContain("holds data recorded from binance at 127.0.0.1");
  expect(elsewhere.stderr).toContain("binance at localhost");
  expect(snapshot(dir)).toEqual(before);
});

test("s3:// data dir: the marker is read from K2_LOCAL_DIR, before the store is asked anything", async () => {
  const local = tempDir();
  writeFileSync(join(local, "k2-source.json"), JSON.stringify({ source: "sim", host: "embedded" }));
  const r = await runK2([], {
    ...onLoopbackVenue(closedPort()),
    K2_DATA_DIR: "s3://k2-bucket/prefix",
    K2_LOCAL_DIR: local,
    K2_S3_ENDPOINT: `http://127.0.0.1:${closedPort()}`,
    S3_ACCESS_KEY_ID: "test",
    S3_SECRET_ACCESS_KEY: "test-secret",
    K2_PORT: "0",
  });
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toStartWith(
    `k2: data dir ${local} holds data recorded from the embedded simulator (K2_SOURCE=sim), and this K2 records from binance at 127.0.0.1`,
  );
  expect(readdirSync(local)).toEqual(["k2-source.json"]);
});

test("a recorder checks its folder's market like a single process (a writer and a query node do not record one)", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "k2-source.json"), JSON.stringify({ source: "sim", host: "embedded" }));
  const r = await runK2([], {
    ...onLoopbackVenue(closedPort()),
    K2_ROLE: "recorder",
    K2_NATS_URL: `nats://127.0.0.1:${closedPort()}`,
    K2_DATA_DIR: dir,
    K2_PORT: "0",
  });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split("\n").length).toBe(1);
  expect(r.stderr).toContain("holds data recorded from the embedded simulator (K2_SOURCE=sim)");
  expect(readdirSync(dir)).toEqual(["k2-source.json"]);
});
