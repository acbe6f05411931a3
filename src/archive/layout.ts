/**
 * The public archive's path scheme (data.binance.vision), owned here once: K2's reader and the
 * simulator's archive both build and parse paths with these functions.
 *
 *   data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2025-01-01.zip
 *   data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2025-01-01.zip
 *   data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-01.zip
 *   data/spot/monthly/trades/BTCUSDT/BTCUSDT-trades-2024-12.zip
 * each beside `<file>.zip.CHECKSUM`; the zip holds one `<file>.csv`.
 */
export const ARCHIVE_DATASETS = ["trades", "aggTrades", "klines"] as const;
export type ArchiveDataset = (typeof ARCHIVE_DATASETS)[number];
export type ArchivePeriod = "daily" | "monthly";

/** The only kline interval K2 reads (the reconciliation is per minute). */
export const KLINE_INTERVAL = "1m";

export interface ArchiveFile {
  dataset: ArchiveDataset;
  period: ArchivePeriod;
  /** Upper-case Binance symbol, e.g. BTCUSDT. */
  symbol: string;
  /** YYYY-MM-DD (daily) or YYYY-MM (monthly), UTC. */
  date: string;
}

const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH_RE = /^\d{4}-\d{2}$/;

/** Why `f` cannot name an archive file, or null. */
export function archiveFileError(f: ArchiveFile): string | null {
  if (!ARCHIVE_DATASETS.includes(f.dataset)) return `unknown dataset '${f.dataset}'`;
  if (!SYMBOL_RE.test(f.symbol)) return `symbol '${f.symbol}': expected 2-20 of A-Z 0-9`;
  const re = f.period === "daily" ? DAY_RE : MONTH_RE;
  if (!re.test(f.date) || Number.isNaN(Date.parse(f.period === "daily" ? f.date : `${f.date}-01`)))
    return `date '${f.date}': expected ${f.period === "daily" ? "YYYY-MM-DD" : "YYYY-MM"}`;
  return null;
}

/** Every YYYY-MM-DD of the calendar month YYYY-MM a monthly file holds (UTC), oldest first. */
export function archiveMonthDays(month: string): string[] {
  if (!MONTH_RE.test(month) || Number.isNaN(Date.parse(`${month}-01`)))
    throw new RangeError(`month '${month}': expected YYYY-MM`);
  const [y, m] = month.split("-").map(Number) as [number, number];
  const out: string[] = [];
  // Day 0 of the next month is this month's last day.
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  for (let d = 1; d <= last; d++) out.push(`${month}-${String(d).padStart(2, "0")}`);
  return out;
}

/** `BTCUSDT-trades-2025-01-01` (klines: `BTCUSDT-1m-2025-01-01`), without extension. */
export function archiveBaseName(f: ArchiveFile): string {
  const middle = f.dataset === "klines" ? KLINE_INTERVAL : f.dataset;
  return `${f.symbol}-${middle}-${f.date}`;
}

/** Path of the zip below the archive root, e.g. `data/spot/daily/trades/BTCUSDT/...zip`. */
export function archiveZipPath(f: ArchiveFile): string {
  const err = archiveFileError(f);
  if (err) throw new RangeError(`archive file: ${err}`);
  const dir = `data/spot/${f.period}/${f.dataset}/${f.symbol}${f.dataset === "klines" ? `/${KLINE_INTERVAL}` : ""}`;
  return `${dir}/${archiveBaseName(f)}.zip`;
}

export function archiveChecksumPath(f: ArchiveFile): string {
  return `${archiveZipPath(f)}.CHECKSUM`;
}

/** Name of the one CSV inside the zip. */
export function archiveCsvName(f: ArchiveFile): string {
  return `${archiveBaseName(f)}.csv`;
}

/** Full URL under an archive root such as `https://data.binance.vision` (trailing slash optional). */
export function archiveUrl(root: string, path: string): string {
  return `${root.endsWith("/") ? root.slice(0, -1) : root}/${path}`;
}

const PATH_RE =
  /^data\/spot\/(daily|monthly)\/(trades|aggTrades|klines)\/([A-Z0-9]{2,20})\/(?:1m\/)?([A-Z0-9]{2,20})-(trades|aggTrades|1m)-(\d{4}-\d{2}(?:-\d{2})?)\.zip(\.CHECKSUM)?$/;

/** Inverse of archiveZipPath / archiveChecksumPath: the file and which of the two, or null. */
export function parseArchivePath(path: string): { file: ArchiveFile; checksum: boolean } | null {
  const m = PATH_RE.exec(path);
  if (!m) return null;
  const [, period, dataset, dirSymbol, symbol, middle, date, checksum] = m;
  const file: ArchiveFile = {
    dataset: dataset as ArchiveDataset,
    period: period as ArchivePeriod,
    symbol: symbol!,
    date: date!,
  };
  // Every part must agree, so exactly one path names each file.
  if (dirSymbol !== symbol || archiveFileError(file) !== null) return null;
  if (archiveZipPath(file) !== path.replace(/\.CHECKSUM$/, "")) return null;
  if ((dataset === "klines") !== (middle === KLINE_INTERVAL)) return null;
  return { file, checksum: checksum !== undefined };
}
