/**
 * A certificate made without a gap ledger (a query node of the scale-out roles, `k2 verify` on a
 * writers' folder): holes come from the stored id chain and only an archive holding exactly the
 * stored rows says they are the exchange's. Against a hand-made archive on 127.0.0.1 whose day
 * lacks ids 11..13 (an exchange-side discontinuity), stored as K2's own Parquet files.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ArchiveFile, archiveChecksumPath, archiveZipPath } from "../../src/archive/index.ts";
import { certify } from "../../src/completeness/index.ts";
import { DEFAULT_DUCK_OPTIONS, Duck } from "../../src/query/duck.ts";
import { archiveZip, serveArchive } from "../backfill/archive-rig.ts";
import { storeArchiveDay } from "../support/archive-day.ts";

const DATE = "2025-01-02";
const FILE: ArchiveFile = { dataset: "trades", period: "daily", symbol: "BTCUSDT", date: DATE };
/** Ids 1..20 without 11..13, one a minute from midnight (µs times, as 2025 files have). */
const IDS = Array.from({ length: 20 }, (_, i) => i + 1).filter((id) => id < 11 || id > 13);

let archive: ReturnType<typeof serveArchive>;
let duck: Duck;
let dir: string;
let paths: string[];

beforeAll(async () => {
  const t0 = Date.UTC(2025, 0, 2) * 1000;
  const csv = IDS.map(
    (id) => `${id},100.00000000,0.50000000,50.00000000,${t0 + id * 60_000_000},True,True\n`,
  ).join("");
  const { zip, checksum } = archiveZip(FILE, csv);
  archive = serveArchive(
    new Map<string, Uint8Array | string>([
      [archiveZipPath(FILE), zip],
      [archiveChecksumPath(FILE), checksum],
    ]),
  );
  duck = await Duck.open({ ...DEFAULT_DUCK_OPTIONS, memoryLimitMb: 256, connections: 1, maxQueued: 4 });
  dir = mkdtempSync(join(tmpdir(), "k2-noledger-"));
  ({ paths } = await storeArchiveDay(archive.url, dir, "trades", "BTCUSDT", DATE, 64, 2));
});
afterAll(() => {
  duck.close();
  archive.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cert = (ledger: boolean) =>
  certify(
    { dataDir: dir, duck, archiveRoot: archive.url, ...(ledger ? { gaps: () => [] } : {}) },
    "trades",
    "BTCUSDT",
    DATE,
  );

test("no ledger: a hole the archive has too is the exchange's; the day is complete", async () => {
  const c = await cert(false);
  expect(c.gap_ledger).toBe("absent");
  expect(c.stored.rows).toBe(IDS.length);
  expect(c.stored.missing).toEqual([{ from_id: 11, to_id: 13, causes: ["archive/missing_at_source"] }]);
  expect(c.verdict).toBe("complete");
  // With a ledger that does not name the hole, the same day stays incomplete (as before).
  const l = await cert(true);
  expect(l.gap_ledger).toBe("present");
  expect(l.verdict).toBe("incomplete");
}, 30_000);

test("no ledger: a hole only K2 has makes the day incomplete, named exactly", async () => {
  // Two files split the 17 rows 9 + 8: the second holds ids 10 and 14..20, the archive's last.
  const gone = /(\d+)-(\d+)-\d+-\d+\.parquet$/.exec(paths[1]!)!;
  unlinkSync(paths[1]!);
  const c = await cert(false);
  expect(c.verdict).toBe("incomplete");
  const from = Number(gone[1]);
  const to = Number(gone[2]);
  expect(to).toBe(20);
  // Missing at the day's edge against the archive: no ledger, so no cause.
  expect(c.stored.missing).toContainEqual({ from_id: from, to_id: to, causes: [] });
  expect(c.reasons.join("\n")).toContain(`ids ${from}..${to} are not stored (no gap ledger here`);
}, 30_000);
