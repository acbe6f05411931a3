/**
 * The data dir lock and its control channel over real abstract Unix sockets: one owner per
 * folder (whatever path leads to it), a second claim learns who owns it, a frozen owner is a
 * timeout rather than a hang, and a released lock can be taken again.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Claim, claimDataDir, DataDirTakenError } from "./claim.ts";
import { ask, DataDirLock, lockName } from "./lock.ts";
import { portInUse } from "./port.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "k2-owner-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test("one lock name per folder, whatever path leads to it; scopes are separate locks", () => {
  const root = tempDir();
  const a = join(root, "a");
  mkdirSync(a);
  symlinkSync(a, join(root, "link"));
  expect(lockName(join(root, "link"))).toBe(lockName(a));
  expect(lockName(join(root, "a", "..", "a"))).toBe(lockName(a));
  expect(lockName(join(root, "b"))).not.toBe(lockName(a)); // created on the way
  expect(lockName(a, "writer-1-of-2")).not.toBe(lockName(a));
  expect(lockName(a).startsWith("\0")).toBe(true); // abstract: no file on disk
});

test("a second claim is refused and told who owns the folder; after release it is free", async () => {
  const dir = tempDir();
  const first = await claimDataDir(dir, "1.2.3");
  cleanups.push(() => first.release());
  first.info.url = "http://127.0.0.1:8123/";
  const err = (await claimDataDir(dir, "9.9.9").catch((e: unknown) => e)) as DataDirTakenError;
  expect(err).toBeInstanceOf(DataDirTakenError);
  expect(err.owner).toEqual({
    pid: process.pid,
    version: "1.2.3",
    dataDir: dir,
    startedAtMs: first.info.startedAtMs,
    url: "http://127.0.0.1:8123/",
  });
  expect(err.message).toContain(`in use by K2 pid ${process.pid} (http://127.0.0.1:8123/, version 1.2.3)`);
  first.release();
  const again: Claim = await claimDataDir(dir, "1.2.4");
  cleanups.push(() => again.release());
  expect(again.info.version).toBe("1.2.4");
});

test("asking nobody is null at once; a frozen owner is null after the timeout, not a hang", async () => {
  const dir = tempDir();
  const name = lockName(dir);
  const t0 = performance.now();
  expect(await ask(name, { op: "who" }, 5000)).toBeNull();
  expect(performance.now() - t0).toBeLessThan(5000); // refused, not timed out
  const frozen = DataDirLock.tryAcquire(name, () => new Promise(() => {}));
  expect(frozen).not.toBeNull();
  cleanups.push(() => frozen!.release());
  const t1 = performance.now();
  expect(await ask(name, { op: "who" }, 200)).toBeNull();
  expect(performance.now() - t1).toBeGreaterThanOrEqual(190);
  expect(DataDirLock.tryAcquire(name, () => null)).toBeNull(); // still held while frozen
});

test("requests other than who: 'still starting' until the owner sets its handler, then its answer", async () => {
  const dir = tempDir();
  const claim = await claimDataDir(dir, "1.0.0");
  cleanups.push(() => claim.release());
  expect(await ask(lockName(dir), { op: "nope" }, 2000)).toEqual({
    ok: false,
    error: "still starting; try again",
  });
  claim.setHandler((req) => ({
    ok: false,
    error: `unknown op ${JSON.stringify((req as { op: string }).op)}`,
  }));
  expect(await ask(lockName(dir), { op: "nope" }, 2000)).toEqual({ ok: false, error: 'unknown op "nope"' });
});

test("portInUse: a plain listener and a SO_REUSEPORT one both count; a free port and port 0 do not", () => {
  const plain = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("x") });
  cleanups.push(() => plain.stop(true));
  const shared = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    reusePort: true,
    fetch: () => new Response("y"),
  });
  cleanups.push(() => shared.stop(true));
  expect(portInUse("127.0.0.1", plain.port!)).toBe(true);
  expect(portInUse("127.0.0.1", shared.port!)).toBe(true);
  const port = plain.port!;
  plain.stop(true);
  expect(portInUse("127.0.0.1", port)).toBe(false);
  expect(portInUse("127.0.0.1", 0)).toBe(false);
});
