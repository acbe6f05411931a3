/**
 * Output formats for any Frame: JSON (default), CSV, NDJSON, Parquet and msgpack, chosen by
 * `format=` or the Accept header. Field names are the stored column names in every format, plus
 * an `<name>_iso` text twin for each µs time. Decimals stay exact: text in JSON/CSV/NDJSON/msgpack,
 * DECIMAL(18,8) in Parquet. Paging and meta travel in the body (JSON, msgpack) and in headers
 * (X-Next-Cursor, X-Meta) for every format.
 */
import { encode } from "@msgpack/msgpack";
import type { SchemaElement } from "hyparquet";
import { type ColumnSource, parquetWriteBuffer } from "hyparquet-writer";
import { formatDecimal } from "../../../model/decimal.ts";
import type { Frame } from "../../../query/types.ts";
import { ByteWriter, type RowTextCache } from "./row-text.ts";

export const FORMATS = ["json", "csv", "ndjson", "parquet", "msgpack"] as const;
export type Format = (typeof FORMATS)[number];

export const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  json: "application/json",
  csv: "text/csv; charset=utf-8",
  ndjson: "application/x-ndjson",
  parquet: "application/vnd.apache.parquet",
  msgpack: "application/msgpack",
};

const ACCEPT: readonly [RegExp, Format][] = [
  [/^text\/csv$/, "csv"],
  [/^application\/(x-)?ndjson$/, "ndjson"],
  [/^application\/(vnd\.apache\.)?parquet$/, "parquet"],
  [/^application\/(x-|vnd\.)?msgpack$/, "msgpack"],
  [/^application\/json$/, "json"],
];

/** `format=` wins; else the first Accept media type we serve (q-values are not ranked); else JSON. */
export function negotiate(format: string | undefined, accept: string | null): Format {
  if (format !== undefined) return format as Format;
  for (const part of (accept ?? "").split(",")) {
    const media = part.split(";")[0]!.trim().toLowerCase();
    for (const [re, f] of ACCEPT) if (re.test(media)) return f;
  }
  return "json";
}

/** µs epoch → ISO-8601 with all six fraction digits, the slow obvious way (reference). */
export function isoUsReference(us: number): string {
  const ms = Math.floor(us / 1000);
  const base = new Date(ms).toISOString(); // ...T00:00:00.123Z
  return `${base.slice(0, -1)}${String(us - ms * 1000).padStart(3, "0")}Z`;
}

const US_PER_DAY = 86_400_000_000;
/** Days 0..2932896 are 1970-01-01..9999-12-31: 4-digit years, where the date prefix is fixed-width. */
const LAST_FAST_DAY = 2_932_896;
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
let cachedDay = Number.NaN;
let cachedPrefix = "";

/**
 * µs epoch → ISO-8601 with all six fraction digits. Rows of one response share a date, so the
 * "YYYY-MM-DDT" prefix is cached and the time of day is integer arithmetic: ~10× faster than
 * Date#toISOString per value, which was the largest cost of a last-100-trades response.
 */
export function isoUs(us: number): string {
  const day = Math.floor(us / US_PER_DAY);
  if (!(day >= 0 && day <= LAST_FAST_DAY)) return isoUsReference(us);
  if (day !== cachedDay) {
    cachedPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    cachedDay = day;
  }
  let rem = us - day * US_PER_DAY;
  const h = Math.floor(rem / 3_600_000_000);
  rem -= h * 3_600_000_000;
  const m = Math.floor(rem / 60_000_000);
  rem -= m * 60_000_000;
  const sec = Math.floor(rem / 1_000_000);
  const frac = rem - sec * 1_000_000;
  return `${cachedPrefix}${TWO[h]}:${TWO[m]}:${TWO[sec]}.${String(1_000_000 + frac).slice(1)}Z`;
}

export type JsonValue = string | number | boolean | null;

/** Header names of the flat formats: each column, and `<base>_iso` after each µs time. */
export function fieldNames(frame: Frame): string[] {
  const out: string[] = [];
  for (const c of frame.columns) {
    out.push(c.name);
    if (c.type === "timestamp_us") out.push(`${c.name.slice(0, -3)}_iso`);
  }
  return out;
}

export function rowObjects(frame: Frame): Record<string, JsonValue>[] {
  const rows: Record<string, JsonValue>[] = new Array(frame.length);
  const names = fieldNames(frame);
  for (let r = 0; r < frame.length; r++) rows[r] = rowObject(frame, names, r);
  return rows;
}

function rowObject(frame: Frame, names: readonly string[], r: number): Record<string, JsonValue> {
  const o: Record<string, JsonValue> = {};
  let k = 0;
  frame.columns.forEach((c, i) => {
    const v = frame.data[i]![r] ?? null;
    o[names[k++]!] = cell(c.type, v);
    if (c.type === "timestamp_us") o[names[k++]!] = v === null ? null : isoUs(v as number);
  });
  return o;
}

/** Which rows a frame holds, so their JSON text can be reused (row-text.ts). */
export interface RowIdentity {
  readonly cache: RowTextCache;
  /** Table and symbol, e.g. "trades|BTCUSDT", and its tagHash. */
  readonly tag: string;
  readonly tagHash: number;
  /** Index in frame.columns of the table's id column. */
  readonly idColumn: number;
}

/** One per process: a page is written in one synchronous step. */
const writer = new ByteWriter();

/** Each row's JSON.stringify text, UTF-8, each followed by `after` except the last unless `last`. */
function writeRows(frame: Frame, rows: RowIdentity, after: string, last: boolean): void {
  const names = fieldNames(frame);
  const ids = frame.data[rows.idColumn]!;
  for (let r = 0; r < frame.length; r++) {
    const id = ids[r];
    const known = typeof id === "number" && rows.cache.copyTo(rows.tag, rows.tagHash, id, writer);
    if (!known) {
      const text = Buffer.from(JSON.stringify(rowObject(frame, names, r)));
      if (typeof id === "number") rows.cache.keep(rows.tag, rows.tagHash, id, text);
      writer.bytes(text);
    }
    if (last || r < frame.length - 1) writer.ascii(after);
  }
}

/**
 * The bytes JSON.stringify({data, next_cursor, meta}) would give (UTF-8), assembled from each
 * row's own text so a row's text is reused; `meta` is already stringified.
 */
function jsonPage(frame: Frame, rows: RowIdentity, next: string | null, meta: string): Uint8Array {
  writer.begin();
  writer.ascii('{"data":[');
  writeRows(frame, rows, ",", false);
  writer.ascii('],"next_cursor":');
  writer.text(JSON.stringify(next));
  writer.ascii(',"meta":');
  writer.text(meta);
  writer.ascii("}");
  return writer.take();
}

/** The bytes of ndjsonLines(frame), from reused row texts. */
function ndjsonPage(frame: Frame, rows: RowIdentity): Uint8Array {
  writer.begin();
  writeRows(frame, rows, "\n", true);
  return writer.take();
}

function cell(type: string, v: number | bigint | string | boolean | null): JsonValue {
  if (v === null) return null;
  if (type === "decimal") return decimalText(v as bigint);
  return v as JsonValue;
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * formatDecimal without BigInt division when the scaled value is exact as a double (every price
 * and quantity; large quote volumes take the BigInt path). BigInt `/` and `%` were the largest
 * cost of serializing 1,440 candles (native-bench/query-latency.ts, 1-min OHLCV).
 */
export function decimalText(v: bigint): string {
  if (v < 0n || v > MAX_EXACT) return formatDecimal(v);
  const n = Number(v);
  let int = Math.floor(n / 1e8);
  let frac = n - int * 1e8;
  // n / 1e8 may round across an integer; the remainder says which way, and corrects it.
  if (frac < 0) {
    int--;
    frac += 1e8;
  } else if (frac >= 1e8) {
    int++;
    frac -= 1e8;
  }
  return `${int}.${String(frac).padStart(8, "0")}`;
}

function csvCell(v: JsonValue): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface Envelope {
  readonly next_cursor: string | null;
  readonly meta: Record<string, unknown>;
}

/**
 * The body of a response in `fmt`; its headers go into `headers` (Elysia's `set.headers`), so
 * Elysia builds the Response once instead of re-wrapping one of ours.
 */
export function serialize(
  frame: Frame,
  fmt: Format,
  env: Envelope,
  headers: Record<string, string | number>,
  rows?: RowIdentity,
): string | Uint8Array {
  const meta = JSON.stringify(env.meta);
  headers["content-type"] = CONTENT_TYPES[fmt];
  headers["x-meta"] = meta;
  if (env.next_cursor !== null) headers["x-next-cursor"] = env.next_cursor;
  switch (fmt) {
    case "json":
      if (rows) return jsonPage(frame, rows, env.next_cursor, meta);
      // JSON.stringify over plain row objects measured 2x faster than writing the text by hand
      // (10,000 trade rows: 25 vs 50 ms), so the obvious way it is.
      return JSON.stringify({ data: rowObjects(frame), next_cursor: env.next_cursor, meta: env.meta });
    case "msgpack":
      return encode({ data: rowObjects(frame), next_cursor: env.next_cursor, meta: env.meta });
    case "ndjson":
      return rows ? ndjsonPage(frame, rows) : ndjsonLines(frame);
    case "csv":
      return csvText(frame, true);
    case "parquet":
      return parquetBytes(frame);
  }
}

export function ndjsonLines(frame: Frame): string {
  let out = "";
  for (const o of rowObjects(frame)) out += `${JSON.stringify(o)}\n`;
  return out;
}

export function csvText(frame: Frame, header: boolean): string {
  const lines: string[] = header ? [fieldNames(frame).join(",")] : [];
  for (const o of rowObjects(frame)) lines.push(Object.values(o).map(csvCell).join(","));
  return lines.length ? `${lines.join("\r\n")}\r\n` : "";
}

/** Parquet with the stored types: DECIMAL(18,8), TIMESTAMP(MICROS, UTC), INT64, strings. */
export function parquetBytes(frame: Frame): Uint8Array {
  const columnData: ColumnSource[] = [];
  const schema: SchemaElement[] = [{ name: "root", num_children: 0 }];
  const add = (name: string, data: unknown[], el: Omit<SchemaElement, "name" | "repetition_type">) => {
    columnData.push({ name, data: data as ColumnSource["data"] });
    schema.push({ name, repetition_type: "OPTIONAL", ...el });
  };
  frame.columns.forEach((c, i) => {
    const data = frame.data[i]!;
    if (c.type === "decimal")
      add(c.name, data, { type: "INT64", converted_type: "DECIMAL", scale: 8, precision: 18 });
    else if (c.type === "timestamp_us") {
      add(c.name, data, {
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" },
      });
      const iso = data.map((v) => (v === null ? null : isoUs(v as number)));
      add(`${c.name.slice(0, -3)}_iso`, iso, { type: "BYTE_ARRAY", converted_type: "UTF8" });
    } else if (c.type === "int64")
      add(
        c.name,
        data.map((v) => (v === null ? null : BigInt(v as number))),
        { type: "INT64" },
      );
    else if (c.type === "boolean") add(c.name, data, { type: "BOOLEAN" });
    else add(c.name, data, { type: "BYTE_ARRAY", converted_type: "UTF8" });
  });
  schema[0] = { name: "root", num_children: schema.length - 1 };
  return new Uint8Array(parquetWriteBuffer({ columnData, schema: schema as never }));
}
