/**
 * Where a process's JavaScript thread spends its time, by component: the self time of every
 * sample of a `.cpuprofile` (Bun's --cpu-prof; e2e-throughput.ts --cpu-prof DIR writes K2's) is
 * charged to the nearest calling frame inside src/ (its folder: sink/wal, decode/binance, …), so
 * native work (a syscall, a typed-array copy) counts for the K2 code that asked for it.
 *   bun run native-bench/profile-summary.ts <file.cpuprofile>
 */
interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

const RUNTIME = new Set(["(garbage collector)", "(program)", "(root)"]);

/** "sink/wal", "decode/binance", "query/hot.ts", "model", … for a src/ path. */
function componentOfPath(path: string): string {
  const parts = path.split("/");
  if (["sink", "decode", "source", "query"].includes(parts[0]!) && parts.length > 1)
    return `${parts[0]}/${parts[1]!.replace(/\.ts$/, "")}`;
  return parts[0]!.replace(/\.ts$/, "");
}

export function summarize(p: Profile): [string, number][] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const component = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const src = /\/src\/(.*)$/.exec(f.url);
      if (src) return componentOfPath(src[1]!);
      if (f.url.includes("node_modules/")) return `deps: ${f.url.split("node_modules/")[1]!.split("/")[0]}`;
      if (f.functionName === "(idle)") return "(idle)";
      if (RUNTIME.has(f.functionName)) return `runtime ${f.functionName}`;
    }
    return "runtime (native, no JS caller)";
  };
  const totals = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const c = component(p.samples[i]!);
    if (c === "(idle)") continue;
    const dt = p.timeDeltas[i] ?? 0;
    totals.set(c, (totals.get(c) ?? 0) + dt);
    busy += dt;
  }
  return [...totals].map(([c, t]): [string, number] => [c, (100 * t) / busy]).sort((a, b) => b[1] - a[1]);
}

if (import.meta.main) {
  const file = Bun.argv[2];
  if (!file || file === "--help") {
    console.log("bun run native-bench/profile-summary.ts <file.cpuprofile>");
    process.exit(file ? 0 : 2);
  }
  const rows = summarize(JSON.parse(await Bun.file(file).text()) as Profile);
  console.log("| component | % of the thread's busy time |\n|---|---:|");
  for (const [c, pct] of rows) if (pct >= 0.5) console.log(`| ${c} | ${pct.toFixed(1)} |`);
}
