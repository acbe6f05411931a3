/**
 * Frames per second from the simulator into K2's ring, next to a plain Bun WebSocket client that
 * does no work, measured in the same run against the same simulator (the machine's raw-receive
 * limit). The simulator runs in this process; each client runs in a child process.
 *   bun run native-bench/ingest-throughput.ts [--seconds 3] [--per-tick 10000] [--json]
 * Client modes (child process): --client plain|ring|ring+wal <ws url>.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SymbolLookup } from "../src/decode/binance/index.ts";
import { GapLedger } from "../src/ingest/gap-ledger.ts";
import { Ingest } from "../src/ingest/ingest.ts";
import { Sequencer } from "../src/ingest/sequencer.ts";
import { SymbolTable } from "../src/model/symbols.ts";
import { DeadLetterBuffer } from "../src/ring/dead-letter.ts";
import { Ring } from "../src/ring/ring.ts";
import { startSimulator } from "../src/sim/index.ts";
import { WalWriter } from "../src/sink/wal/index.ts";
import { nowUs } from "../src/source/binance/connection.ts";
import { numberFlag } from "./args.ts";

const HELP = `native-bench/ingest-throughput.ts — simulator → ring frames/s vs a plain client
  --seconds N     measuring time per client (default 3)
  --per-tick N    simulator trades per 5 ms tick (default 10000)
  --json          print one JSON line instead of the table`;

async function client(mode: string, url: string, seconds: number): Promise<void> {
  let frames = 0;
  let onFrame: (s: string) => void = () => {};
  let cleanup = () => {};
  if (mode !== "plain") {
    const symbols = new SymbolTable(["BTCUSDT"]);
    const ring = new Ring(1 << 16);
    const dir = mkdtempSync(join(tmpdir(), "k2-bench-wal-"));
    const wal =
      mode === "ring+wal" ? WalWriter.open({ dir, flushIntervalMs: 5, fsyncIntervalMs: 100 }) : undefined;
    const ingest = new Ingest({
      ring,
      lookup: new SymbolLookup(symbols),
      symbols,
      sequencer: new Sequencer(),
      ledger: new GapLedger(),
      deadLetters: new DeadLetterBuffer(),
      ...(wal ? { wal } : {}),
      onGap: () => {},
      onServerShutdown: () => {},
      gapMaxIds: 1e9,
      nowUs,
    });
    // The consumer side: release rows as the sink batcher would (without writing files).
    const drain = setInterval(() => ring.release(ring.available()), 2);
    onFrame = (s) => ingest.onFrame(s, nowUs(), 0);
    cleanup = () => {
      clearInterval(drain);
      void wal?.close();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const ws = new WebSocket(url);
  ws.onmessage = (e) => {
    frames++;
    onFrame(e.data as string);
  };
  await new Promise<void>((r) => {
    ws.onopen = () => r();
  });
  await Bun.sleep(500);
  const f0 = frames;
  const t0 = performance.now();
  await Bun.sleep(seconds * 1000);
  const rate = ((frames - f0) * 1000) / (performance.now() - t0);
  ws.close();
  cleanup();
  process.stdout.write(`${JSON.stringify({ mode, framesPerSec: Math.round(rate) })}\n`);
  process.exit(0);
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help")) return void console.log(HELP);
  const seconds = numberFlag(argv, "--seconds", 3);
  const ci = argv.indexOf("--client");
  if (ci >= 0) return client(argv[ci + 1]!, argv[ci + 2]!, seconds);
  const perTick = numberFlag(argv, "--per-tick", 10_000);
  const results: Record<string, number> = {};
  for (const mode of ["plain", "ring", "ring+wal"]) {
    // A fresh simulator per client so every client starts at the same generator state.
    const sim = await startSimulator({
      symbols: ["BTCUSDT"],
      ratePerSec: 1e9,
      maxTradesPerTick: perTick,
      tickMs: 5,
    });
    const url = `${sim.wsUrl}/ws/btcusdt@trade?timeUnit=MICROSECOND`;
    const child = Bun.spawn(
      [process.execPath, "run", import.meta.path, "--client", mode, url, "--seconds", String(seconds)],
      {
        stdout: "pipe",
      },
    );
    const out = await new Response(child.stdout).text();
    await child.exited;
    await sim.stop();
    results[mode] = (
      JSON.parse(out.trim().split("\n").pop() ?? "{}") as { framesPerSec: number }
    ).framesPerSec;
  }
  const plain = results.plain ?? 1;
  if (argv.includes("--json")) return void console.log(JSON.stringify(results));
  console.log("client                       frames/s   vs plain client");
  for (const [mode, fps] of Object.entries(results)) {
    console.log(`${mode.padEnd(26)} ${String(fps).padStart(11)}   ${(fps / plain).toFixed(2)}`);
  }
}

await main(Bun.argv.slice(2));
