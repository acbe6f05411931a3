/**
 * The RSS a maintenance pass adds while it merges the small files of many partitions, with the
 * writer worker running a full GC after every merge (the default) and without
 * (`collectAfterMerge: false`), in one run. Each round of each variant runs in its own process (RSS
 * is per process), alternating. A pass: 32 one-batch files of 100 trades in each of `--partitions`
 * partitions, then `compactSmallFiles` with K2's default policy, RSS sampled every 10 ms.
 *
 *   bun native-bench/compact-memory.ts [--passes 8] [--partitions 60] [--rounds 2]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Catalog, compactSmallFiles } from "../src/catalog/index.ts";
import { DAY0_US, span, writeIds } from "../src/catalog/testdata/files.ts";
import { keyDefault } from "../src/config/key-default.ts";
import { ParquetWriterPool } from "../src/sink/parquet/index.ts";
import { numberFlag } from "./args.ts";

const argv = process.argv.slice(2);
const PASSES = numberFlag(argv, "--passes", 8, { integer: true, max: 64 });
const PARTITIONS = numberFlag(argv, "--partitions", 60, { integer: true, max: 1000 });
const ROUNDS = numberFlag(argv, "--rounds", 2, { integer: true, max: 20 });
const FILES_PER_PASS = 32;
const ROWS_PER_FILE = 100;

interface PassResult {
  readonly ms: number;
  /** Peak RSS during the pass minus RSS right before it, MB. */
  readonly riseMB: number;
}

const rssMB = (): number => process.memoryUsage.rss() / 2 ** 20;

/** The pipeline's small-file policy with K2's defaults (src/pipeline/maintenance.ts). */
const POLICY = {
  minFiles: keyDefault("compactMinFiles"),
  smallerThanRows: keyDefault("batchMaxRows") / 2,
  maxMergedRows: keyDefault("batchMaxRows"),
};

async function child(collect: boolean): Promise<PassResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), "k2-bench-compact-"));
  const pool = await ParquetWriterPool.start({ dataDir, workers: 1, collectAfterMerge: collect });
  const catalog = new Catalog();
  const next = new Array<number>(PARTITIONS).fill(1);
  const out: PassResult[] = [];
  try {
    for (let p = 0; p < PASSES; p++) {
      for (let f = 0; f < FILES_PER_PASS; f++)
        for (let s = 0; s < PARTITIONS; s++) {
          const a = next[s]!;
          await writeIds(
            pool,
            catalog,
            "trades",
            `S${s}USDT`,
            span(a, a + ROWS_PER_FILE - 1),
            DAY0_US + a * 1000,
          );
          next[s] = a + ROWS_PER_FILE;
        }
      Bun.gc(true); // the main thread's own garbage from the writes is not the pass's
      const before = rssMB();
      let peak = before;
      const timer = setInterval(() => {
        peak = Math.max(peak, rssMB());
      }, 10);
      const t0 = performance.now();
      await compactSmallFiles({ catalog, pool }, POLICY);
      const ms = performance.now() - t0;
      await Bun.sleep(50);
      clearInterval(timer);
      out.push({ ms, riseMB: peak - before });
    }
  } finally {
    await pool.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return out;
}

const median = (a: readonly number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1]!;

async function parent(): Promise<void> {
  const runs: Record<"collect" | "keep", PassResult[]> = { collect: [], keep: [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const v of ["collect", "keep"] as const) {
      const p = Bun.spawn(
        [process.execPath, import.meta.path, "--child", v, ...argv.filter((a) => a !== "--child")],
        { stdout: "pipe", stderr: "inherit" },
      );
      const text = await new Response(p.stdout).text();
      if ((await p.exited) !== 0) throw new Error(`${v} round ${r + 1} failed`);
      runs[v].push(...(JSON.parse(text) as PassResult[]));
    }
  console.log(
    `compact-memory: ${ROUNDS} rounds × ${PASSES} passes, ${PARTITIONS} partitions, ${FILES_PER_PASS} files of ${ROWS_PER_FILE} trades each per pass`,
  );
  for (const v of ["collect", "keep"] as const) {
    const rs = runs[v];
    console.log(
      `  ${v === "collect" ? "full GC after every merge" : "JSC's own GC only        "}: RSS rise per pass median ${median(rs.map((x) => x.riseMB)).toFixed(1)} MB, max ${Math.max(...rs.map((x) => x.riseMB)).toFixed(1)} MB; pass median ${median(rs.map((x) => x.ms)).toFixed(0)} ms`,
    );
  }
  const maxOf = (v: "collect" | "keep") => Math.max(...runs[v].map((x) => x.riseMB));
  const msOf = (v: "collect" | "keep") => median(runs[v].map((x) => x.ms));
  console.log(
    `  ratio collect/keep: max RSS rise ${(maxOf("collect") / maxOf("keep")).toFixed(2)}×, pass time ${(msOf("collect") / msOf("keep")).toFixed(2)}×`,
  );
}

const mode = argv.indexOf("--child");
if (mode >= 0) console.log(JSON.stringify(await child(argv[mode + 1] === "collect")));
else await parent();
