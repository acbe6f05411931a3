/**
 * A completeness certificate for one (table, symbol, UTC day): what each independent source says
 * against what K2 stores, and a verdict (docs/completeness.md).
 *
 * - stored: rows, id range, missing id ranges (each with the gap-ledger causes that name it),
 *   canonical SHA-256 (stored-day.ts);
 * - klines (trades only): per-minute verdicts of the live reconciliation (kline-verdicts.ts);
 * - archive: Binance's daily file — CHECKSUM, rows, id range, canonical SHA-256 (archive-day.ts);
 * - rest (optional): a few REST pages at random ids compared row by row (spot-check.ts).
 *
 * Verdict: `incomplete` when the stored day has a hole no ledger entry explains as missing at
 * the source, a file K2 cannot read, a kline mismatch, an archive that disagrees (count, id
 * range or hash), or a REST spot check that finds a row differing; `complete` when none of that and the archive agrees; `unverified` otherwise
 * (nothing independent has confirmed the day yet, e.g. today's, not yet published).
 *
 * Without a gap ledger (a query node of the scale-out roles, `k2 verify` on a writers' folder: the
 * recorders keep their ledgers in their own folders) the missing ranges still come from the stored
 * id chain, but nothing names their causes: a hole counts as missing at the source only when the
 * archive, published, holds exactly the stored rows (same count, ids and canonical SHA-256, so it
 * lacks the same ids); otherwise it makes the day `incomplete`. `gap_ledger` says which case.
 *
 * Kept as `<data>/completeness/certificates/<table>/<SYMBOL>/<date>.json`. The stored day is
 * read again every time (it is what is certified, and a file may have gone); the archive's
 * reading is reused while its CHECKSUM is the one recorded — a replaced archive file (a new
 * CHECKSUM) is downloaded and compared again.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { GapEntry } from "../model/gaps.ts";
import type { Duck } from "../query/duck.ts";
import type { BinanceRest } from "../source/binance/rest.ts";
import { type ArchiveDay, archiveChecksum, archiveFileOf, readArchiveDay } from "./archive-day.ts";
import type { CertTable } from "./canonical.ts";
import { KLINE_VERDICTS, type KlineVerdict, readVerdicts } from "./kline-verdicts.ts";
import { type SpotCheck, spotCheck } from "./spot-check.ts";
import { readStoredDay, type StoredDay } from "./stored-day.ts";

export type CertVerdict = "complete" | "incomplete" | "unverified";

export interface MissingRange {
  readonly from_id: number;
  readonly to_id: number;
  /** Ledger entries overlapping the range: "cause/state", e.g. "stream/missing_at_source". */
  readonly causes: string[];
}

export interface Certificate {
  readonly table: CertTable;
  readonly symbol: string;
  readonly date: string;
  readonly verdict: CertVerdict;
  /**
   * Where hole causes came from: this process's gap ledger, or none (a query node; the holes
   * are found in the stored id chain and only the archive can say they are the exchange's).
   */
  readonly gap_ledger: "present" | "absent";
  /** One sentence per reason the verdict is not `complete`. */
  readonly reasons: string[];
  readonly stored: Omit<StoredDay, "missing" | "files"> & { files: number; missing: MissingRange[] };
  readonly klines: {
    readonly minutes: Record<KlineVerdict, number>;
    /** Σ of the klines' trade counts `n` over the judged minutes, and Σ stored in their [f, L]. */
    readonly trades: number;
    readonly stored: number;
  } | null;
  readonly archive: ArchiveDay;
  /** REST spot checks, when asked for (null otherwise). */
  readonly rest: SpotCheck | null;
  /** A ledger alarm (kline_mismatch) on the day's ids. */
  readonly alarms: { from_id: number; to_id: number; detail: string }[];
  readonly canonical: string;
  readonly certified_at: string;
}

export interface CertifyDeps {
  readonly dataDir: string;
  readonly duck: Duck;
  readonly archiveRoot: string;
  /**
   * The gap ledger (in memory in a running K2, its journal for `k2 verify`); absent where no
   * ledger is kept (a query node: the recorders' ledgers stay in their folders).
   */
  readonly gaps?: () => readonly GapEntry[];
  /** The REST client for spot checks (its weight budget is shared with gap repair). */
  readonly rest?: BinanceRest;
}

export const CANONICAL_FORM = {
  trades: "trade_id,price,quantity,trade_time_us,is_buyer_maker\\n (8 decimals, ids ascending)",
  agg_trades:
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,trade_time_us,is_buyer_maker\\n (8 decimals, ids ascending)",
} as const;

export function certificatePath(dataDir: string, table: CertTable, symbol: string, date: string): string {
  return join(dataDir, "completeness", "certificates", table, symbol, `${date}.json`);
}

function readManifest(path: string): Certificate | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Certificate;
  } catch {
    return null; // absent or torn: computed afresh
  }
}

function writeManifest(path: string, c: Certificate): void {
  mkdirSync(dirname(path), { recursive: true });
  // Unique per writer: two certifications of the same day (an API call and `k2 verify`) may overlap.
  const tmp = `${path}.${process.pid}-${Math.random().toString(36).slice(2)}.partial`;
  writeFileSync(tmp, `${JSON.stringify(c, null, 2)}\n`);
  renameSync(tmp, path);
}

/**
 * Ids the archive holds before K2's first stored id or after its last (all of them when K2 stores
 * none of the day): a day's ids are contiguous, so with the archive's first and last id these
 * ranges are exact. Holes between K2's first and last id come from the stored day itself.
 */
export function edgeRanges(
  stored: Pick<StoredDay, "first_id" | "last_id">,
  archive: ArchiveDay,
): [number, number][] {
  if (archive.status !== "published" || archive.first_id === null || archive.last_id === null) return [];
  const a: [number, number] = [archive.first_id, archive.last_id];
  if (stored.first_id === null || stored.last_id === null) return [a];
  const out: [number, number][] = [];
  if (a[0] < stored.first_id) out.push([a[0], Math.min(a[1], stored.first_id - 1)]);
  if (a[1] > stored.last_id) out.push([Math.max(a[0], stored.last_id + 1), a[1]]);
  return out;
}

export async function certify(
  d: CertifyDeps,
  table: CertTable,
  symbol: string,
  date: string,
  /** REST pages to spot-check (0: none; at most MAX_SPOT_PAGES). */
  spotPages = 0,
): Promise<Certificate> {
  const path = certificatePath(d.dataDir, table, symbol, date);
  const previous = readManifest(path);
  const stored = await readStoredDay(d.duck, d.dataDir, table, symbol, date);
  let archive: ArchiveDay;
  const prevArchive = previous?.archive;
  let checksum: string | null | undefined;
  try {
    checksum = await archiveChecksum(d.archiveRoot, archiveFileOf(table, symbol, date));
  } catch {
    checksum = undefined; // unreachable: readArchiveDay says why
  }
  if (prevArchive?.status === "published" && checksum === prevArchive.checksum) archive = prevArchive;
  else archive = await readArchiveDay(d.archiveRoot, table, symbol, date);

  const entries = (d.gaps?.() ?? []).filter((g) => g.table === table && g.symbol === symbol);
  // No ledger: a stored hole is the exchange's only if the archive holds exactly the stored rows.
  const archiveHasHoles =
    d.gaps === undefined &&
    archive.status === "published" &&
    archive.rows === stored.rows &&
    archive.first_id === stored.first_id &&
    archive.last_id === stored.last_id &&
    archive.sha256 === stored.sha256;
  const missing: MissingRange[] = [...edgeRanges(stored, archive), ...stored.missing]
    .sort((a, b) => a[0] - b[0])
    .map(([f, l]) => ({
      from_id: f,
      to_id: l,
      causes: archiveHasHoles
        ? ["archive/missing_at_source"]
        : entries
            .filter((g) => g.from_id <= l && g.to_id >= f && g.cause !== "kline_mismatch")
            .map((g) => `${g.cause}/${g.state}`),
    }));
  const inDay = (g: GapEntry) =>
    stored.first_id !== null && g.from_id <= stored.last_id! && g.to_id >= stored.first_id;
  const alarms = entries
    .filter((g) => g.cause === "kline_mismatch" && inDay(g))
    .map((g) => ({ from_id: g.from_id, to_id: g.to_id, detail: g.detail }));
  const klines = table === "trades" ? klineSummary(d.dataDir, symbol, date) : null;
  const rest =
    d.rest && spotPages > 0 && stored.first_id !== null
      ? await spotCheck(
          d.rest,
          d.duck,
          stored.files,
          table,
          symbol,
          stored.first_id,
          stored.last_id!,
          spotPages,
        )
      : null;

  const reasons: string[] = [];
  for (const m of missing) {
    const atSource = entries.some(
      (g) => g.state === "missing_at_source" && g.from_id <= m.from_id && g.to_id >= m.to_id,
    );
    if (!atSource && !archiveHasHoles)
      reasons.push(
        `ids ${m.from_id}..${m.to_id} are not stored${m.causes.length ? ` (ledger: ${m.causes.join(", ")})` : d.gaps ? " and no ledger entry names them" : " (no gap ledger here: the recorders keep theirs)"}`,
      );
  }
  for (const p of stored.problems) reasons.push(`a stored file cannot be read: ${p}`);
  if (stored.distinct_ids !== stored.rows)
    reasons.push(`${stored.rows - stored.distinct_ids} stored rows repeat an id`);
  if (klines && klines.minutes.mismatch > 0)
    reasons.push(`${klines.minutes.mismatch} minutes' klines disagree with the stored trades`);
  if (archive.status === "published") {
    if (archive.rows !== stored.rows)
      reasons.push(`the archive has ${archive.rows} rows, K2 stores ${stored.rows}`);
    if (archive.first_id !== stored.first_id || archive.last_id !== stored.last_id)
      reasons.push(
        `the archive's ids run ${archive.first_id}..${archive.last_id}, K2's ${stored.first_id}..${stored.last_id}`,
      );
    if (archive.sha256 !== stored.sha256 && archive.rows === stored.rows)
      reasons.push("the archive's rows differ from the stored rows (canonical SHA-256 differs)");
  }
  if (rest && rest.differences.length > 0)
    reasons.push(
      `REST spot check: ${rest.differences.length} rows differ (${rest.differences.slice(0, 3).join("; ")})`,
    );
  const incomplete = reasons.length > 0;
  if (!incomplete && archive.status !== "published")
    reasons.push(
      archive.status === "not_published"
        ? "archive: not published (yet); nothing independent confirms the whole day"
        : `archive: ${archive.message}`,
    );
  const verdict: CertVerdict = incomplete
    ? "incomplete"
    : archive.status === "published"
      ? "complete"
      : "unverified";
  const cert: Certificate = {
    table,
    symbol,
    date,
    verdict,
    gap_ledger: d.gaps ? "present" : "absent",
    reasons,
    stored: { ...stored, files: stored.files.length, missing },
    klines,
    archive,
    rest,
    alarms,
    canonical: CANONICAL_FORM[table],
    certified_at: new Date().toISOString(),
  };
  writeManifest(path, cert);
  return cert;
}

function klineSummary(dataDir: string, symbol: string, date: string): NonNullable<Certificate["klines"]> {
  const minutes = Object.fromEntries(KLINE_VERDICTS.map((v) => [v, 0])) as Record<KlineVerdict, number>;
  let trades = 0;
  let stored = 0;
  for (const m of readVerdicts(dataDir, symbol, date).minutes) {
    minutes[m.verdict]++;
    trades += m.trades;
    stored += Math.max(0, m.stored);
  }
  return { minutes, trades, stored };
}
