/**
 * An independent reader of K2's WAL for tests: parses segments from the documented layout
 * (src/sink/wal/format.ts's table), checks each record's CRC with Bun.hash.crc32 (not K2's
 * table code) and reads ids out of the frames with JSON.parse (not K2's decoders). It stops at
 * the first torn or damaged record of a segment, as recovery does: what follows is not durable.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type WalIds = Map<string, Set<number>>; // "table:SYMBOL" → ids

const MAGIC = "K2WAL001";

/** The table and id a Binance frame carries, or null for control frames and anything else. */
function idOf(frame: string): { table: string; symbol: string; id: number } | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(frame) as Record<string, unknown>;
  } catch {
    return null;
  }
  const d = (v.data ?? v) as Record<string, unknown>;
  if (d.e === "trade") return { table: "trades", symbol: String(d.s), id: Number(d.t) };
  if (d.e === "aggTrade") return { table: "agg_trades", symbol: String(d.s), id: Number(d.a) };
  if (d.e === undefined && typeof d.u === "number" && "b" in d)
    return { table: "quotes", symbol: String(d.s), id: d.u };
  return null;
}

export function walIds(walDir: string): { ids: WalIds; records: number } {
  const ids: WalIds = new Map();
  let records = 0;
  const names = readdirSync(walDir)
    .filter((n) => /^\d{20}\.wal$/.test(n))
    .sort();
  for (const name of names) {
    const b = readFileSync(join(walDir, name));
    if (b.subarray(0, 8).toString("latin1") !== MAGIC) continue;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let off = 8; off + 8 <= b.length; ) {
      const bodyLen = dv.getUint32(off, true);
      const crc = dv.getUint32(off + 4, true);
      if (bodyLen < 17 || off + 8 + bodyLen > b.length) break; // torn tail
      const body = b.subarray(off + 8, off + 8 + bodyLen);
      if (Bun.hash.crc32(body) >>> 0 !== crc) break; // damaged: nothing after it counts
      records++;
      const row = idOf(body.subarray(17).toString("utf8"));
      if (row) {
        const key = `${row.table}:${row.symbol}`;
        const set = ids.get(key) ?? new Set<number>();
        ids.set(key, set);
        set.add(row.id);
      }
      off += 8 + bodyLen;
    }
  }
  return { ids, records };
}
