/**
 * The receive alone, per WebSocket client (K2_WS_CLIENT): frames/s and CPU µs per frame of a
 * process that only takes text frames as strings from Bun's WebSocket client (`bun`, what
 * e2e-throughput.ts calls the bare client) and from K2's own client over Bun.connect (`raw`,
 * src/source/ws/), and as byte ranges with no string (`raw-bytes`, how K2's ingest takes row
 * frames from it), each against a fresh max-rate simulator process (10 symbols, trade stream,
 * paced by its reader so nothing is dropped). Phases alternate; the ratios are bun / raw and
 * bun / raw-bytes CPU per frame in the same run. The simulator holds one of the two cores, so
 * frames/s is capped by it: CPU per frame is the figure that says what each client costs.
 *   bun run native-bench/ws-receive.ts [--seconds 10] [--rounds 2] [--json]
 */
import { readFileSync } from "node:fs";
import { RawWebSocket, utf8Text } from "../src/source/ws/client.ts";
import { startSimProcess } from "../test/support/sim-process.ts";
import { numberFlag } from "./args.ts";
import { benchSymbols, type MaxRateMarket, maxRateSimArgs, streamUrl } from "./max-rate-sim.ts";

const argv = Bun.argv.slice(2);
const SECONDS = numberFlag(argv, "--seconds", 10);
const ROUNDS = numberFlag(argv, "--rounds", 2);
const CLIENTS = ["bun", "raw", "raw-bytes"] as const;
type Client = (typeof CLIENTS)[number];
/** e2e-throughput.ts's trade market (max-rate-sim.ts). */
const MARKET: MaxRateMarket = { symbols: benchSymbols(10), streams: ["trade"], perTick: 1000, tickMs: 5 };

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Child process: take every frame (as a string but for raw-bytes), count it and its length; report after 1 s quiet. */
async function client(kind: Client, url: string): Promise<void> {
  let frames = 0;
  let chars = 0;
  let lastAtMs = 0;
  const onText = (s: string) => {
    frames++;
    chars += s.length;
    lastAtMs = Date.now();
  };
  await new Promise<void>((resolve, reject) => {
    if (kind === "bun") {
      const ws = new WebSocket(url);
      ws.onmessage = (ev) => onText(ev.data as string);
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("bun client: connection failed"));
    } else
      new RawWebSocket(
        url,
        {
          onOpen: resolve,
          onText:
            kind === "raw"
              ? (b, start, end) => onText(utf8Text(b, start, end))
              : (_b, start, end) => {
                  frames++;
                  chars += end - start;
                  lastAtMs = Date.now();
                },
          onBinary: () => {},
          onPing: () => {},
          onError: (c) => reject(new Error(`raw client: ${c}`)),
          onClose: () => {},
        },
        { maxMessageBytes: 1 << 24 },
      );
  });
  process.stdout.write("ready\n");
  while (frames === 0 || Date.now() - lastAtMs < 1000) await Bun.sleep(50);
  process.stdout.write(`${JSON.stringify({ frames, chars, lastAtMs })}\n`);
  process.exit(0);
}

async function phase(kind: Client) {
  const sim = await startSimProcess(maxRateSimArgs(MARKET));
  try {
    const child = Bun.spawn(
      [process.execPath, "run", import.meta.path, "--client", kind, streamUrl(sim.wsUrl, MARKET)],
      {
        stdout: "pipe",
        stderr: "inherit",
      },
    );
    const reader = child.stdout.getReader();
    let out = "";
    const more = async () => {
      const c = await reader.read();
      if (c.done) throw new Error(`${kind} client exited early: ${out}`);
      out += new TextDecoder().decode(c.value);
    };
    while (!out.includes("ready\n")) await more();
    const cpu0 = cpuSeconds(child.pid);
    const t0 = Date.now();
    await sim.pause(false);
    await Bun.sleep(SECONDS * 1000);
    await sim.pause(true);
    const sent = (await sim.stats()).framesSent;
    while (!out.includes("}\n")) await more();
    const cpuS = cpuSeconds(child.pid) - cpu0;
    await child.exited;
    const r = JSON.parse(out.slice(out.indexOf("{"))) as { frames: number; chars: number; lastAtMs: number };
    return {
      client: kind,
      frames: r.frames,
      sent,
      frames_per_s: Math.round(r.frames / ((r.lastAtMs - t0) / 1000)),
      cpu_us_per_frame: Number(((cpuS * 1e6) / r.frames).toFixed(3)),
      chars_per_frame: Math.round(r.chars / r.frames),
    };
  } finally {
    await sim.stop();
  }
}

if (argv[0] === "--client") await client(argv[1] as Client, argv[2]!);
else {
  const runs: Awaited<ReturnType<typeof phase>>[] = [];
  for (let i = 0; i < ROUNDS; i++) for (const k of CLIENTS) runs.push(await phase(k));
  const best = (k: Client) => Math.min(...runs.filter((r) => r.client === k).map((r) => r.cpu_us_per_frame));
  const ratio = Number((best("bun") / best("raw")).toFixed(2));
  const bytesRatio = Number((best("bun") / best("raw-bytes")).toFixed(2));
  const lost = runs.filter((r) => r.frames !== r.sent).length;
  if (argv.includes("--json"))
    console.log(
      JSON.stringify({
        seconds: SECONDS,
        runs,
        bun_over_raw_cpu: ratio,
        bun_over_raw_bytes_cpu: bytesRatio,
        lost,
      }),
    );
  else {
    for (const r of runs)
      console.log(
        `${r.client.padEnd(9)} ${r.frames_per_s.toLocaleString("en-US").padStart(10)} frames/s  ${r.cpu_us_per_frame.toFixed(3)} µs CPU/frame  ${r.frames === r.sent ? "all frames" : `${r.sent - r.frames} missing`}`,
      );
    console.log(
      `Bun's client costs ${ratio}× the CPU per frame of K2's raw client with a string per frame, ${bytesRatio}× without (best of ${ROUNDS} each)`,
    );
  }
  if (lost > 0) process.exit(1);
}
