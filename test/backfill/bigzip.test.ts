/**
 * `k2 backfill` reading zips from disk: with the in-memory bound set below every zip's size, the
 * simulator's daily files and its zip64 monthly file go to a temp file in the run's staging
 * folder and are inflated from there (src/archive/fetch.ts, zip-file.ts). Stored rows read back
 * with DuckDB: exactly the rows the in-memory path stores, each id once, equal to the archive's
 * CSV. A bad checksum and a truncated zip on the disk path land nothing, and no temp zip is left
 * in the staging folder once a file's outcome is known (nor one a killed run left there).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ArchiveFile,
  archiveBaseName,
  archiveChecksumPath,
  archiveUrl,
  archiveZipPath,
  zipEntry,
} from "../../src/archive/index.ts";
import { type FileOutcome, planJobs, runBackfill, STATE_DIR } from "../../src/backfill/index.ts";
import {
  archiveLines,
  archiveZip,
  dailyFile,
  filesUnder,
  serveArchive,
  storedLines,
  withDir,
} from "./archive-rig.ts";
import { monthSimPerFile } from "./month-rig.ts";

const SYMBOL = "BTCUSDT";
/** Two days of January (daily files), then the whole of February (its zip64 monthly file). */
const FROM = "2025-01-30";
const TO = "2025-02-28";
/** Below every zip the simulator serves here (checked): all of them take the disk path. */
const BOUND = 8 * 1024;
const rig = monthSimPerFile([SYMBOL]);

/** Temp zips in the run's staging folder right now (the staged Parquet files live in subfolders). */
function tempZips(dataDir: string): string[] {
  const staging = join(dataDir, STATE_DIR, "staging");
  try {
    return readdirSync(staging).filter((n) => n.endsWith(".zip"));
  } catch {
    return [];
  }
}

/**
 * One run, one file at a time: the temp zips present whenever a file's outcome is known, and
 * every one seen while it ran (the staging folder polled from this thread: the stage worker
 * reads the zip meanwhile).
 */
async function run(
  dataDir: string,
  root: string,
  jobs: ReturnType<typeof planJobs>,
  bound?: number,
  batchRows = 4096,
) {
  const leftAtOutcome: string[] = [];
  const seen = new Set<string>();
  let stagedSeen = 0;
  const poll = setInterval(() => {
    for (const z of tempZips(dataDir)) seen.add(z);
    stagedSeen = Math.max(stagedSeen, filesUnder(join(dataDir, STATE_DIR)).length);
  }, 2);
  try {
    const s = await runBackfill({
      dataDir,
      archiveUrl: root,
      jobs,
      concurrency: 1,
      batchRows,
      ...(bound === undefined ? {} : { inMemoryZipBytes: bound }),
      onFile: (o: FileOutcome) =>
        leftAtOutcome.push(...tempZips(dataDir).map((z) => `${o.job.file.date}: ${z}`)),
    });
    return { s, leftAtOutcome, seen: [...seen], stagedSeen };
  } finally {
    clearInterval(poll);
  }
}

async function zipBytes(f: ArchiveFile): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(archiveUrl(rig.sim.archiveUrl, archiveZipPath(f)))).arrayBuffer());
}

describe("k2 backfill: zips over the in-memory bound are read from disk", () => {
  test("daily files and a zip64 monthly file through the disk path store exactly the in-memory path's rows", async () => {
    const jobs = planJobs([SYMBOL], ["trades"], FROM, TO, { period: "auto" });
    expect(jobs.map((j) => `${j.file.period} ${j.file.date}`).sort()).toEqual([
      "daily 2025-01-30",
      "daily 2025-01-31",
      "monthly 2025-02",
    ]);
    for (const j of jobs) expect((await zipBytes(j.file)).length).toBeGreaterThan(BOUND);
    const month = zipEntry(await zipBytes(jobs.find((j) => j.file.period === "monthly")!.file), "m");
    expect(month.zip64).toBe(true);

    await withDir("k2-bigzip-mem-", (memDir) =>
      withDir("k2-bigzip-disk-", async (diskDir) => {
        const mem = await run(memDir, rig.sim.archiveUrl, jobs);
        // A zip a killed run left in the staging folder: the next run removes it on start.
        mkdirSync(join(diskDir, STATE_DIR, "staging"), { recursive: true });
        writeFileSync(join(diskDir, STATE_DIR, "staging", "BTCUSDT-trades-2025-02.dead.zip"), "x");
        const disk = await run(diskDir, rig.sim.archiveUrl, jobs, BOUND);
        for (const r of [mem, disk]) {
          expect(r.s.failed).toBe(0);
          expect(r.s.landed).toBe(3);
        }
        expect(disk.leftAtOutcome).toEqual([]);
        // The monthly zip (the longest read) was seen on disk; the dead one never (removed at start).
        expect(disk.seen.some((z) => z.startsWith(`${SYMBOL}-trades-2025-02.`))).toBe(true);
        expect(disk.seen).not.toContain("BTCUSDT-trades-2025-02.dead.zip");
        expect(mem.seen).toEqual([]);
        expect(disk.s.rows).toBe(mem.s.rows);
        // The truth: the archive's CSV text of every file, in date order, split by hand.
        const want: string[] = [];
        for (const j of [...jobs].sort((a, b) => a.file.date.localeCompare(b.file.date)))
          want.push(...(await archiveLines(rig.sim.archiveUrl, j.file)));
        const got = await storedLines(diskDir, "trades", SYMBOL);
        expect(got.rows).toBeGreaterThan(10_000);
        expect(got.distinct).toBe(got.rows);
        expect(got.lines).toEqual((await storedLines(memDir, "trades", SYMBOL)).lines);
        expect(got.lines).toEqual(want);
      }),
    );
  }, 30_000);

  test(
    "a bad checksum, a truncated zip and a wrong CRC-32 on the disk path land nothing and leave no temp zip",
    () =>
      withDir("k2-bigzip-bad-", async (dataDir) => {
        /** `n` trades of `date` from id `first`, in the archive's CSV layout (ms times). */
        const csv = (first: number, date: string, n = 3000) =>
          Array.from(
            { length: n },
            (_, i) =>
              `${first + i},${(i * 7919) % 10007}.25,${1 + (i % 17)},3,${Date.parse(date) + i * 1000},True,True`,
          ).join("\n");
        const sum = (f: ArchiveFile, zip: Uint8Array) =>
          `${new Bun.CryptoHasher("sha256").update(zip).digest("hex")}  ${archiveBaseName(f)}.zip\n`;
        const files = new Map<string, Uint8Array | string>();
        const serve = (f: ArchiveFile, zip: Uint8Array, checksum = sum(f, zip)) => {
          expect(zip.length).toBeGreaterThan(BOUND);
          files.set(archiveZipPath(f), zip);
          files.set(archiveChecksumPath(f), checksum);
        };
        const bad = dailyFile("trades", SYMBOL, "2025-01-30");
        serve(bad, archiveZip(bad, csv(1, bad.date)).zip, archiveZip(bad, csv(2, bad.date)).checksum);
        const cut = dailyFile("trades", SYMBOL, "2025-01-31");
        const whole = archiveZip(cut, csv(3001, cut.date)).zip;
        serve(cut, whole.subarray(0, whole.length - 100));
        // Inflates cleanly to the right size, its rows parsed and staged; only the CRC-32 is off.
        const crc = dailyFile("trades", SYMBOL, "2025-02-01");
        const crcZip = archiveZip(crc, csv(6001, crc.date, 20_000)).zip.slice();
        const cen = Buffer.from(crcZip).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        crcZip[cen + 16] = crcZip[cen + 16]! ^ 0xff;
        serve(crc, crcZip);
        const server = serveArchive(files);
        try {
          const r = await run(
            dataDir,
            server.url,
            planJobs([SYMBOL], ["trades"], "2025-01-30", "2025-02-01"),
            BOUND,
            1000,
          );
          expect(r.s.failed).toBe(3);
          const kinds = r.s.outcomes.map((o) => [o.job.file.date, (o.error as { kind?: string })?.kind]);
          expect(kinds.sort()).toEqual([
            ["2025-01-30", "checksum_mismatch"],
            ["2025-01-31", "corrupt_zip"],
            ["2025-02-01", "corrupt_zip"],
          ]);
          expect(r.s.outcomes.find((o) => o.job.file.date === "2025-02-01")?.error?.message).toMatch(
            /CRC-32/,
          );
          expect(r.leftAtOutcome).toEqual([]);
          expect(r.stagedSeen).toBeGreaterThan(0); // the CRC file's rows were staged before its end ...
        } finally {
          server.stop();
        }
        expect(filesUnder(dataDir)).toEqual([]); // ... and none of them is anywhere now
        expect((await storedLines(dataDir, "trades", SYMBOL)).rows).toBe(0);
      }),
    30_000,
  );
});
