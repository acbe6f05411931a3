/**
 * The simulator as its own process (src/sim/main.ts), as two K2 processes in a hand-over need it:
 * one market both connect to. Controlled over its admin HTTP API; stopped by pid.
 */
import type { GroundTruth, SimStatsSnapshot } from "../../src/sim/index.ts";
import { ROOT } from "./k2-process.ts";

export interface SimProcess {
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  pause(on: boolean): Promise<void>;
  /** POST a fault patch or action (src/sim/faults.ts) to the admin API. */
  fault(body: unknown): Promise<void>;
  groundTruth(): Promise<GroundTruth>;
  stats(): Promise<SimStatsSnapshot>;
  stop(): Promise<void>;
}

export async function startSimProcess(args: string[], timeoutMs = 10_000): Promise<SimProcess> {
  const proc = Bun.spawn([process.execPath, "run", "src/sim/main.ts", "--port", "0", ...args], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  const deadline = Date.now() + timeoutMs;
  let out = "";
  let info: { wsUrl: string; restUrl: string; adminUrl: string } | undefined;
  while (!info && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
    if (!chunk || chunk.done) break;
    out += new TextDecoder().decode(chunk.value);
    const line = out.split("\n").find((l) => l.includes('"k2-sim listening"'));
    if (line) info = JSON.parse(line);
  }
  reader.releaseLock();
  if (!info) {
    proc.kill("SIGKILL");
    throw new Error(`simulator did not start: ${out}${await new Response(proc.stderr).text()}`);
  }
  const admin = info.adminUrl;
  const post = async (body: unknown) => {
    const r = await fetch(`${admin}/faults`, { method: "POST", body: JSON.stringify(body) });
    if (r.status !== 200) throw new Error(`simulator refused ${JSON.stringify(body)}: ${await r.text()}`);
  };
  return {
    wsUrl: info.wsUrl,
    restUrl: info.restUrl,
    proc,
    pause: (on) => post({ paused: on }),
    fault: post,
    groundTruth: async () => (await (await fetch(`${admin}/ground-truth`)).json()) as GroundTruth,
    stats: async () => (await (await fetch(`${admin}/stats`)).json()) as SimStatsSnapshot,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      const code = await Promise.race([proc.exited, Bun.sleep(5000).then(() => null)]);
      if (code === null) proc.kill("SIGKILL");
    },
  };
}
