/** Start a real K2 process (bun run src/main.ts) on an ephemeral port and find its URL. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");

export interface K2Process {
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  readonly url: string;
  readonly dataDir: string;
  readonly logs: () => string;
  /** SIGTERM and wait; returns the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
  cleanup(): void;
}

/** A K2 process started without waiting for it: its stdout and stderr are collected as they come. */
export interface SpawnedK2 {
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  logs(): string;
  stderr(): string;
}

/**
 * Start `bun run src/main.ts` in `root` (this tree, or an earlier one checked out elsewhere).
 * K2_SOURCE=sim unless `env` points K2 elsewhere: tests never reach beyond loopback.
 */
export function spawnK2(env: Record<string, string>, root = ROOT): SpawnedK2 {
  const proc = Bun.spawn([process.execPath, "run", "src/main.ts"], {
    cwd: root,
    env: { ...process.env, K2_PORT: "0", K2_LOG_LEVEL: "info", K2_SOURCE: "sim", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  // Drained all along, so the child never blocks on a full pipe.
  void (async () => {
    const d = new TextDecoder();
    for await (const c of proc.stdout) out += d.decode(c, { stream: true });
  })();
  void (async () => {
    const d = new TextDecoder();
    for await (const c of proc.stderr) err += d.decode(c, { stream: true });
  })();
  return { proc, logs: () => out, stderr: () => err };
}

export async function startK2(env: Record<string, string> = {}, timeoutMs = 10_000): Promise<K2Process> {
  const dataDir = env.K2_DATA_DIR ?? mkdtempSync(join(tmpdir(), "k2-proc-"));
  const k = spawnK2({ ...env, K2_DATA_DIR: dataDir });
  const proc = k.proc;
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  while (!url && Date.now() < deadline) {
    const m = /"url":"(http:\/\/[^"]+)","msg":"k2 serving"/.exec(k.logs());
    if (m) url = m[1]!.replace(/\/$/, "");
    else if (proc.exitCode !== null) break;
    else await Bun.sleep(10);
  }
  if (!url) {
    proc.kill("SIGKILL");
    await proc.exited;
    await Bun.sleep(20); // the last chunks of the pipes
    throw new Error(`k2 did not start within ${timeoutMs} ms:\n${k.logs()}\n${k.stderr()}`);
  }
  return {
    proc,
    url,
    dataDir,
    logs: k.logs,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      const t0 = performance.now();
      proc.kill(signal);
      const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => null)]);
      if (code === null) proc.kill("SIGKILL");
      return { code, ms: performance.now() - t0 };
    },
    cleanup() {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      if (!env.K2_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Run K2 to completion (for rejection paths) and capture its output. */
export async function runK2(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, "run", "src/main.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, K2_SOURCE: "sim", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => null)]);
  if (code === null) proc.kill("SIGKILL");
  return {
    code,
    stdout: await new Response(proc.stdout).text(),
    stderr: await new Response(proc.stderr).text(),
  };
}
