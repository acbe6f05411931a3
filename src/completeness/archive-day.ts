/**
 * What Binance's public archive says of one (table, symbol, day): the CHECKSUM it publishes and,
 * read through src/archive (SHA-256 verified zip → CSV rows), the row count, id range and the
 * canonical SHA-256 of its rows (canonical.ts), to compare with the stored day. A 404 is "not
 * published" (Binance publishes a day after it ends); any other failure is reported, not thrown.
 */
import {
  ArchiveError,
  type ArchiveFile,
  archiveBaseName,
  archiveChecksumPath,
  archiveUrl,
  parseChecksumFile,
  readArchiveFile,
} from "../archive/index.ts";
import { FLAG_BUYER_MAKER } from "../model/index.ts";
import { allocRowColumns } from "../model/row.ts";
import { CanonicalHash, type CertTable } from "./canonical.ts";

export type ArchiveDay =
  | { readonly status: "not_published"; readonly url: string }
  | { readonly status: "error"; readonly url: string; readonly message: string }
  | {
      readonly status: "published";
      readonly url: string;
      /** The zip's SHA-256 as its CHECKSUM file gives it (and as the download verified). */
      readonly checksum: string;
      readonly rows: number;
      readonly first_id: number | null;
      readonly last_id: number | null;
      readonly sha256: string;
    };

const DATASET = { trades: "trades", agg_trades: "aggTrades" } as const;
/** Rows per CSV batch handed to the hash. */
const BATCH_ROWS = 65_536;

export function archiveFileOf(table: CertTable, symbol: string, date: string): ArchiveFile {
  return { dataset: DATASET[table], period: "daily", symbol, date };
}

/** The published CHECKSUM's digest, or null when the file is not published (404). */
export async function archiveChecksum(root: string, file: ArchiveFile): Promise<string | null> {
  const url = archiveUrl(root, archiveChecksumPath(file));
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ArchiveError("http", `${url}: request failed (${(e as Error).message})`, true);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ArchiveError("http", `${url}: HTTP ${res.status}`, res.status >= 500);
  }
  return parseChecksumFile(await res.text(), `${archiveBaseName(file)}.zip`, url);
}

export async function readArchiveDay(
  root: string,
  table: CertTable,
  symbol: string,
  date: string,
): Promise<ArchiveDay> {
  const file = archiveFileOf(table, symbol, date);
  const url = archiveUrl(root, archiveChecksumPath(file)).replace(/\.CHECKSUM$/, "");
  try {
    if ((await archiveChecksum(root, file)) === null) return { status: "not_published", url };
    const rows = allocRowColumns(BATCH_ROWS);
    const hash = new CanonicalHash(table);
    let first: number | null = null;
    let last: number | null = null;
    const flush = (count: number) => {
      for (let i = 0; i < count; i++) {
        const id = rows.id[i]!;
        if (first === null || id < first) first = id;
        if (last === null || id > last) last = id;
        hash.add(
          id,
          rows.dec0[i]!,
          rows.dec1[i]!,
          rows.first_id[i]!,
          rows.last_id[i]!,
          rows.trade_time_us[i]!,
          (rows.flags[i]! & FLAG_BUYER_MAKER) !== 0,
        );
      }
    };
    const r = await readArchiveFile(file, { dataset: DATASET[table], rows, flush }, 0, 0, { root });
    return {
      status: "published",
      url,
      checksum: r.sha256,
      rows: r.rows,
      first_id: first,
      last_id: last,
      sha256: hash.hex(),
    };
  } catch (e) {
    if (e instanceof ArchiveError && e.kind === "not_found") return { status: "not_published", url };
    return { status: "error", url, message: (e as Error).message };
  }
}
