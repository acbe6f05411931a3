/**
 * Recovery figures of the source against the simulator on loopback:
 * - reconnect-to-first-frame after the server drops every connection (close frame and TCP reset),
 *   with the production backoff (first delay drawn from [0, 1 s]) and with 50 ms for comparison;
 * - time to repair a 1,000-trade gap from REST (gap detected → ledger says repaired).
 *   bun run native-bench/source-recovery.ts [--reps 5]
 */
import { startHarness } from "../test/support/source-harness.ts";

const reps = Number(Bun.argv[Bun.argv.indexOf("--reps") + 1] ?? 5) || 5;
if (Bun.argv.includes("--help")) {
  console.log("bun run native-bench/source-recovery.ts [--reps N]");
  process.exit(0);
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
}

for (const baseMs of [1000, 50]) {
  for (const mode of ["close", "reset"] as const) {
    const h = await startHarness({
      symbols: ["BTCUSDT"],
      kinds: ["trade"],
      reconnectBaseMs: baseMs,
      reconnectMaxMs: 128_000,
      sim: { ratePerSec: 1000 },
    });
    const times: number[] = [];
    await h.waitFor(() => (h.seen.get("trades:BTCUSDT")?.length ?? 0) > 10, 5000, "first trades");
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const before = h.events.filter((e) => e.type === "first_frame").length;
      h.sim.faults.dropAll(mode);
      await h.waitFor(
        () => h.events.filter((e) => e.type === "first_frame").length > before,
        10_000,
        "reconnect",
      );
      times.push(h.events.filter((e) => e.type === "first_frame").at(-1)!.atMs - t0);
      await Bun.sleep(1200); // let the backoff reset window pass between drops
    }
    await h.stop();
    const s = stats(times);
    console.log(
      `reconnect→first frame, ${mode}, backoff base ${baseMs} ms: median ${s.median.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)}) over ${reps}`,
    );
  }
}

const repairs: number[] = [];
for (let i = 0; i < reps; i++) {
  // A fast generator so the 1,000 withheld trades are produced in ~0.1 s and the time measured is
  // REST repair, not generation.
  const h = await startHarness({ symbols: ["BTCUSDT"], kinds: ["trade"], sim: { ratePerSec: 10_000 } });
  await h.waitFor(() => (h.seen.get("trades:BTCUSDT")?.length ?? 0) > 10, 5000, "first trades");
  h.sim.faults.skipTradeIds(1000, "BTCUSDT");
  await h.waitFor(
    () => h.ledger.entries({ state: "repaired" }).length > 0 && h.repairer.backlog === 0,
    20_000,
    "repair",
  );
  const e = h.ledger.entries({ state: "repaired" })[0]!;
  repairs.push((e.updated_at_us - e.detected_at_us) / 1000);
  await h.stop();
}
const r = stats(repairs);
console.log(
  `repair of a 1,000-trade gap from REST: median ${r.median.toFixed(1)} ms (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)}) over ${reps}`,
);
process.exit(0);
