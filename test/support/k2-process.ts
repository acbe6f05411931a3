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

export async function startK2(env: Record<string, string> = {}, timeoutMs = 10_000): Promise<K2Process> {
  const dataDir = env.K2_DATA_DIR ?? mkdtempSync(join(tmpdir(), "k2-proc-"));
  const proc = Bun.spawn([process.execPath, "run", "src/main.ts"], {
    cwd: ROOT,
    // K2_SOURCE=sim unless a test points K2 elsewhere: tests never reach beyond loopback.
    env: {
      ...process.env,
      K2_PORT: "0",
      K2_LOG_LEVEL: "info",
      K2_SOURCE: "sim",
      ...env,
      K2_DATA_DIR: dataDir,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const decoder = new TextDecoder();
  const reader = proc.stdout.getReader();
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  while (!url && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
    if (!chunk || chunk.done) break;
    out += decoder.decode(chunk.value, { stream: true });
    const m = /"url":"(http:\/\/[^"]+)","msg":"k2 serving"/.exec(out);
    if (m) url = m[1]!.replace(/\/$/, "");
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (r.done) return;
      out += decoder.decode(r.value, { stream: true });
    }
  })();
  if (!url) {
    proc.kill("SIGKILL");
    throw new Error(
      `k2 did not start within ${timeoutMs} ms:\n${out}\n${await new Response(proc.stderr).text()}`,
    );
  }
  return {
    proc,
    url,
    dataDir,
    logs: () => out,
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
