/**
 * `k2 dlq replay`: re-decode every dead-lettered frame with the CURRENT decoder, exactly as ingest
 * calls it (decodeFrame, timeUnitUs = true), and say which now decode (e.g. after a decoder fix),
 * by table and symbol, and whether their ids are already in a visible Parquet file.
 *
 * Mainly a diagnostic. K2 rarely needs the dead-lettered copy of a trade or agg trade: the
 * sequencer only advances on decoded frames, so the next frame of that symbol reveals the missing
 * id as a gap and gap repair fetches it from REST (src/ingest/ingest.ts, src/ingest/gap-repair.ts).
 * "not in parquet" therefore means: check `k2 query gaps` (still repairing, unrepaired, or rows
 * still in the WAL of a running K2). Quotes (bookTicker) are never repaired; a dead-lettered quote
 * is a lost snapshot. For those, --out writes the frames for the replay-in pickup
 * (src/sink/dlq/replay-in.ts), which goes through the WAL and its exact-id dedupe.
 *
 * Two passes over the folder, like WAL replay: the first learns the ids, the stored check reads
 * only the Parquet files whose id range covers them, the second writes --out. Memory is bounded by
 * the ids that now decode, not by what storage holds.
 */
import { rebuildCatalog } from "../catalog/index.ts";
import { DecodeStatus, decodeFrame, SymbolLookup, statusName } from "../decode/binance/index.ts";
import { allocRowColumns } from "../model/row.ts";
import { SymbolTable } from "../model/symbols.ts";
import { TABLE_BY_ID, TABLE_ID_COLUMN, TABLE_NAMES, type TableId, type TableName } from "../model/tables.ts";
import { type DlqEntry, encodeDlqLine } from "../sink/dlq/index.ts";
import { readStoredIds } from "../sink/parquet/index.ts";
import { byCount, formatTable } from "./table.ts";

/** Which of `ids` of (table, symbol) a visible Parquet file holds. */
export type StoredIdCheck = (
  table: TableName,
  symbol: string,
  ids: ReadonlySet<number>,
) => Promise<Set<number>>;

export interface ReplayGroup {
  readonly table: TableName;
  readonly symbol: string;
  readonly frames: number;
  readonly ids: number;
  readonly in_parquet: number;
  readonly not_in_parquet: number;
}

export interface DlqReplayReport {
  readonly entries: number;
  readonly symbols: readonly string[];
  readonly now_decode: { readonly frames: number; readonly ids: number; readonly groups: ReplayGroup[] };
  /** By the current decoder's status name. */
  readonly still_fail: { readonly frames: number; readonly by_reason: Record<string, number> };
  /** By the reason stored in the entry (the decoder of the day): how many of those now decode. */
  readonly by_stored_reason: Record<string, { entries: number; now_decode: number }>;
  /** Frames written to --out: now decode, id in no Parquet file, each id once. */
  readonly out_frames: number;
}

const SYMBOL_IN_FRAME = /"s"\s*:\s*"([A-Z0-9]{2,20})"/g;

/** Symbols named by an `"s"` field in any frame (bytes read as Latin-1: only ASCII matters). */
export function symbolsInFrames(entries: Iterable<DlqEntry>): string[] {
  const found = new Set<string>();
  for (const e of entries) {
    const text = typeof e.frame === "string" ? e.frame : Buffer.from(e.frame).toString("latin1");
    for (const m of text.matchAll(SYMBOL_IN_FRAME)) found.add(m[1]!);
  }
  return [...found].sort();
}

export interface ReplayOptions {
  /** Called once per pass: the entries in file order. */
  readonly entries: () => Iterable<DlqEntry>;
  readonly symbols: readonly string[];
  readonly stored: StoredIdCheck;
  /** Receives one DLQ line per frame to replay (the --out file). */
  readonly out?: (line: string) => void;
}

export async function replayDlq(o: ReplayOptions): Promise<DlqReplayReport> {
  const table = new SymbolTable(o.symbols);
  const lookup = new SymbolLookup(table);
  const rows = allocRowColumns(1);
  /** OK → `${table} ${symbol}` of the row, else the status name. */
  const decode = (e: DlqEntry): { ok: true; key: string; id: number } | { ok: false; reason: string } => {
    const s = decodeFrame(e.frame, lookup, rows, 0, e.recvTimeUs, true);
    if (s !== DecodeStatus.OK) return { ok: false, reason: statusName(s) };
    const name = TABLE_BY_ID[rows.kind[0]! as TableId];
    return { ok: true, key: `${name} ${table.name(rows.symbol_id[0]!)}`, id: rows.id[0]! };
  };

  const groups = new Map<string, { frames: number; ids: Set<number>; stored: Set<number> }>();
  const fail = new Map<string, number>();
  const byStored = new Map<string, { entries: number; now_decode: number }>();
  let entries = 0;
  let okFrames = 0;
  for (const e of o.entries()) {
    entries++;
    const r = decode(e);
    const was = byStored.get(e.statusName) ?? { entries: 0, now_decode: 0 };
    byStored.set(e.statusName, was);
    was.entries++;
    if (!r.ok) {
      fail.set(r.reason, (fail.get(r.reason) ?? 0) + 1);
      continue;
    }
    okFrames++;
    was.now_decode++;
    const g = groups.get(r.key) ?? { frames: 0, ids: new Set<number>(), stored: new Set<number>() };
    groups.set(r.key, g);
    g.frames++;
    g.ids.add(r.id);
  }
  for (const [key, g] of groups) {
    const [t, symbol] = key.split(" ") as [TableName, string];
    g.stored = await o.stored(t, symbol, g.ids);
  }

  let outFrames = 0;
  if (o.out && okFrames > 0) {
    const written = new Set<string>();
    for (const e of o.entries()) {
      const r = decode(e);
      if (!r.ok || groups.get(r.key)!.stored.has(r.id)) continue;
      const k = `${r.key} ${r.id}`;
      if (written.has(k)) continue; // the same id dead-lettered twice: replay it once
      written.add(k);
      o.out(encodeDlqLine(e));
      outFrames++;
    }
  }

  const order = (k: string) => {
    const [t, s] = k.split(" ") as [TableName, string];
    return `${TABLE_NAMES.indexOf(t)} ${s}`;
  };
  const list: ReplayGroup[] = [...groups.keys()]
    .sort((a, b) => (order(a) < order(b) ? -1 : 1))
    .map((key) => {
      const g = groups.get(key)!;
      const [t, symbol] = key.split(" ") as [TableName, string];
      return {
        table: t,
        symbol,
        frames: g.frames,
        ids: g.ids.size,
        in_parquet: g.stored.size,
        not_in_parquet: g.ids.size - g.stored.size,
      };
    });
  return {
    entries,
    symbols: table.names(),
    now_decode: { frames: okFrames, ids: list.reduce((s, g) => s + g.ids, 0), groups: list },
    still_fail: {
      frames: entries - okFrames,
      by_reason: Object.fromEntries(byCount(Object.fromEntries(fail))),
    },
    by_stored_reason: Object.fromEntries(
      [...byStored].sort((a, b) => b[1].entries - a[1].entries || (a[0] < b[0] ? -1 : 1)),
    ),
    out_frames: outFrames,
  };
}

/**
 * The stored check against the data folder as it is on disk now (read-only: rebuildCatalog
 * without its clean-up options deletes nothing). A file that vanishes meanwhile (compaction in
 * a running K2) is counted in `unreadable`; its ids then show as not in Parquet.
 */
export async function parquetStoredCheck(
  dataDir: string,
): Promise<{ check: StoredIdCheck; unreadable: () => string[] }> {
  const { catalog } = await rebuildCatalog(dataDir);
  const unreadable: string[] = [];
  const check: StoredIdCheck = async (t, symbol, ids) => {
    const out = new Set<number>();
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const id of ids) {
      if (id < min) min = id;
      if (id > max) max = id;
    }
    for (const f of catalog.files({ table: t, symbol })) {
      if (f.maxId < min || f.minId > max) continue;
      try {
        for (const id of await readStoredIds(f.path, TABLE_ID_COLUMN[t]))
          if (ids.has(Number(id))) out.add(Number(id));
      } catch {
        unreadable.push(f.path);
      }
    }
    return out;
  };
  return { check, unreadable: () => unreadable };
}

export function formatReplay(r: DlqReplayReport, dir: string, symbolsFrom: string): string {
  const lines = [
    `replay of ${r.entries} dead-lettered frames in ${dir} with the current decoder`,
    `  symbols: ${r.symbols.length > 0 ? r.symbols.join(", ") : "(none)"} (${symbolsFrom})`,
    "",
    `now decode: ${r.now_decode.frames} frames, ${r.now_decode.ids} distinct ids`,
  ];
  if (r.now_decode.groups.length > 0)
    lines.push(
      formatTable(
        ["table", "symbol", "frames", "ids", "in parquet", "not in parquet"],
        r.now_decode.groups.map((g) => [g.table, g.symbol, g.frames, g.ids, g.in_parquet, g.not_in_parquet]),
      ),
    );
  lines.push("", `still fail: ${r.still_fail.frames} frames`);
  if (r.still_fail.frames > 0)
    lines.push(formatTable(["reason now", "frames"], byCount(r.still_fail.by_reason)));
  lines.push(
    "",
    "by stored reason",
    formatTable(
      ["reason then", "entries", "now decode"],
      Object.entries(r.by_stored_reason).map(([k, v]) => [k, v.entries, v.now_decode]),
    ),
  );
  return lines.join("\n");
}
