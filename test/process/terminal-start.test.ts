/**
 * On a terminal the start is one line: a real K2 under a pseudo-terminal (util-linux `script`),
 * where the logger pretty-prints, says where it records from and to in one sentence; every
 * setting is logged at debug only. (Not on a terminal the first JSON record still carries every
 * key: lifecycle.test.ts.)
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitUntil } from "../support/bounded-run.ts";
import { ROOT } from "../support/k2-process.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** Run K2 under a pty until it serves; returns what the terminal showed, colours stripped. */
async function onTerminal(level: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "k2-tty-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const proc = Bun.spawn(["script", "-qec", `exec "${process.execPath}" run src/main.ts`, "/dev/null"], {
    cwd: ROOT,
    env: {
      ...process.env,
      K2_SOURCE: "sim",
      K2_SYMBOLS: "BTCUSDT",
      K2_PORT: "0",
      K2_DATA_DIR: dir,
      K2_LOG_LEVEL: level,
    },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  cleanups.push(() => {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  });
  let out = "";
  void (async () => {
    const d = new TextDecoder();
    for await (const c of proc.stdout) out += d.decode(c, { stream: true });
  })();
  const plain = () => out.replace(/\u001b\[[0-9;]*m/g, "");
  await waitUntil(() => plain().includes("k2 serving"), 10_000, "k2 serving on the terminal");
  proc.kill("SIGTERM");
  await Promise.race([proc.exited, Bun.sleep(5000)]);
  return plain();
}

test.skipIf(!Bun.which("script"))(
  "on a terminal the start is one sentence; the settings are at debug",
  async () => {
    const info = await onTerminal("info");
    const start = info.split("\n").filter((l) => l.includes("starting"));
    expect(start.length).toBe(1);
    expect(start[0]).toContain(
      "starting: BTCUSDT trade,aggTrade,bookTicker,kline from the embedded simulator into",
    );
    // The line after it is the next record, not the first of ~60 settings.
    const next = info.split("\n")[info.split("\n").indexOf(start[0]!) + 1] ?? "";
    expect(next).toMatch(/^\[\d\d:\d\d:\d\d\.\d+\] /);
    expect(info).not.toContain("K2_RING_CAPACITY");
    const debug = await onTerminal("debug");
    expect(debug).toContain("K2_RING_CAPACITY");
  },
  30_000,
);
