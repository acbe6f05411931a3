/**
 * Measures how many frames per second the simulator pushes to one client (trade stream, one
 * symbol). The simulator runs in this process; the client runs in a child process so the two
 * share the machine's cores the way K2 and the simulator do in a demo.
 *   bun run src/sim/throughput.ts [--seconds 3] [--per-tick 20000] [--tick-ms 5]
 */
import { startSimulator } from "./index.ts";

function flag(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}: expected a positive number`);
  return v;
}

async function client(url: string, seconds: number): Promise<void> {
  let frames = 0;
  let lastId = -1;
  let gaps = 0;
  const ws = new WebSocket(url);
  ws.onmessage = (e) => {
    frames++;
    // Cheap id check without JSON.parse: "t": follows the symbol field.
    const s = e.data as string;
    const i = s.indexOf('"t":');
    const id = Number(s.slice(i + 4, s.indexOf(",", i)));
    if (lastId >= 0 && id !== lastId + 1) gaps++;
    lastId = id;
  };
  await new Promise<void>((r) => {
    ws.onopen = () => r();
  });
  await Bun.sleep(500); // warm-up
  const f0 = frames;
  const t0 = performance.now();
  await Bun.sleep(seconds * 1000);
  const rate = ((frames - f0) * 1000) / (performance.now() - t0);
  ws.close();
  process.stdout.write(`${JSON.stringify({ framesPerSec: Math.round(rate), gaps })}\n`);
}

async function main(argv: string[]): Promise<void> {
  const seconds = flag(argv, "--seconds", 3);
  const ci = argv.indexOf("--client");
  if (ci >= 0) return client(argv[ci + 1]!, seconds);
  const perTick = flag(argv, "--per-tick", 20_000);
  const tickMs = flag(argv, "--tick-ms", 5);
  const sim = await startSimulator({
    symbols: ["BTCUSDT"],
    ratePerSec: 1e9,
    maxTradesPerTick: perTick,
    tickMs,
    historyLimit: 100_000,
  });
  const child = Bun.spawn(
    [
      process.execPath,
      "run",
      import.meta.path,
      "--client",
      `${sim.wsUrl}/ws/btcusdt@trade`,
      "--seconds",
      String(seconds),
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const out = await new Response(child.stdout).text();
  await child.exited;
  const st = sim.stats();
  await sim.stop();
  process.stdout.write(
    `${JSON.stringify({ perTick, tickMs, client: JSON.parse(out || "{}"), serverFramesSent: st.framesSent, disconnects: st.disconnects })}\n`,
  );
}

await main(Bun.argv.slice(2));
