/**
 * Batch columns → Parquet bytes. Pure (no I/O), runs in the writer worker. Ids and times arrive
 * as float64 (exact integers < 2^53) and are widened to int64 here, off the main thread.
 */
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import {
  ID_TIME_COLUMNS,
  type IdTimeColumn,
  isBookTable,
  perTable,
  TABLE_ROW_SLOTS,
  Table,
  type TableName,
} from "../../model/index.ts";
import type { BatchColumns } from "./batch.ts";
import { writeColumnFile } from "./column-writer.ts";
import { ParquetSinkError } from "./errors.ts";
import { dayOfDate, US_PER_DAY } from "./layout.ts";
import { DeltaRangeError } from "./pages.ts";
import {
  BOOK_ROW_GROUP_ROWS,
  FLAG_COLUMNS,
  META,
  ROW_GROUP_ROWS,
  SCHEMA_VERSION,
  slotOf,
  TABLE_SCHEMAS,
  WRITER_INFO,
} from "./schema.ts";

export interface EncodeInput {
  readonly table: TableName;
  readonly exchange: string;
  readonly symbol: string;
  readonly date: string;
  readonly rows: number;
  readonly columns: BatchColumns;
  /** Names of the files (same partition) this one replaces: set by compaction only. */
  readonly replaces?: readonly string[];
}

export interface EncodeOptions {
  readonly zstdLevel?: number;
  readonly rowGroupRows?: number;
  /**
   * true (default): K2's column writer (column-writer.ts). false: hyparquet-writer with the
   * annotated schema, the slow and obvious way — the reference the fast path is tested against.
   */
  readonly fast?: boolean;
}

export interface FileStats {
  readonly rows: number;
  readonly minId: number;
  readonly maxId: number;
  readonly minEventTimeUs: number;
  readonly maxEventTimeUs: number;
}

const TWO_32 = 4_294_967_296;

/** float64 integers (checked by checkInts) → int64 through uint32 words: no BigInt per value. */
function toInt64(src: Float64Array, rows: number): BigInt64Array {
  const out = new BigInt64Array(rows);
  const w = new Uint32Array(out.buffer);
  for (let i = 0; i < rows; i++) {
    const x = src[i]!;
    w[2 * i] = x >>> 0;
    w[2 * i + 1] = Math.floor(x / TWO_32);
  }
  return out;
}

export function statsOf(columns: BatchColumns, rows: number): FileStats {
  let minId = Number.POSITIVE_INFINITY;
  let maxId = Number.NEGATIVE_INFINITY;
  let minE = Number.POSITIVE_INFINITY;
  let maxE = Number.NEGATIVE_INFINITY;
  const { id, event_time_us: ev } = columns;
  for (let i = 0; i < rows; i++) {
    const x = id[i]!;
    const e = ev[i]!;
    if (x < minId) minId = x;
    if (x > maxId) maxId = x;
    if (e < minE) minE = e;
    if (e > maxE) maxE = e;
  }
  return { rows, minId, maxId, minEventTimeUs: minE, maxEventTimeUs: maxE };
}

export function encodeParquet(
  input: EncodeInput,
  opts: EncodeOptions = {},
): { bytes: Uint8Array; stats: FileStats } {
  const { table, rows, columns } = input;
  if (!Number.isInteger(rows) || rows < 1 || rows > columns.id.length) {
    throw new ParquetSinkError({
      kind: "invalid_batch",
      op: "encode",
      message: `batch rows ${rows} not in 1..${columns.id.length}`,
    });
  }
  const day = dayOfDate(input.date);
  const stats = statsOf(columns, rows);
  if (
    day === null ||
    stats.minEventTimeUs < day * US_PER_DAY ||
    stats.maxEventTimeUs >= (day + 1) * US_PER_DAY
  ) {
    throw new ParquetSinkError({
      kind: "invalid_batch",
      op: "encode",
      message: `event_time_us ${stats.minEventTimeUs}..${stats.maxEventTimeUs} outside date ${input.date}`,
    });
  }
  const kv: Record<string, string> = {
    [META.schemaVersion]: String(SCHEMA_VERSION),
    [META.writer]: WRITER_INFO,
    [META.table]: table,
    [META.exchange]: input.exchange,
    [META.symbol]: input.symbol,
    [META.date]: input.date,
    [META.rows]: String(rows),
    [META.minId]: String(stats.minId),
    [META.maxId]: String(stats.maxId),
    [META.minEventTimeUs]: String(stats.minEventTimeUs),
    [META.maxEventTimeUs]: String(stats.maxEventTimeUs),
  };
  if (input.replaces && input.replaces.length > 0) kv[META.replaces] = JSON.stringify(input.replaces);
  const level = opts.zstdLevel ?? 3;
  const rowGroupRows =
    opts.rowGroupRows ?? (isBookTable(Table[table]) ? BOOK_ROW_GROUP_ROWS : ROW_GROUP_ROWS);
  for (const slot of INT_SLOTS[table]) checkInts(columns[slot], rows, slot);
  if (opts.fast ?? true) {
    try {
      const bytes = writeColumnFile({ ...input, kv, createdBy: WRITER_INFO, rowGroupRows, zstdLevel: level });
      return { bytes, stats };
    } catch (e) {
      // Deltas spanning more than 2^53 (crafted ids): the reference writer handles any int64.
      if (!(e instanceof DeltaRangeError)) throw e;
    }
  }
  return { bytes: referenceEncode(input, kv, level, rowGroupRows), stats };
}

/** The batch slots holding ids and times (float64 integers) per table. */
type IntSlot = IdTimeColumn;
const INT_SLOT_NAMES: ReadonlySet<string> = new Set<string>(ID_TIME_COLUMNS);
const INT_SLOTS: Readonly<Record<TableName, readonly IntSlot[]>> = perTable((t) =>
  TABLE_ROW_SLOTS[t].filter((s): s is IntSlot => INT_SLOT_NAMES.has(s)),
);

function checkInts(src: Float64Array, rows: number, column: string): void {
  for (let i = 0; i < rows; i++) {
    const x = src[i]!;
    if (!(x >= 0 && x <= Number.MAX_SAFE_INTEGER) || x !== Math.floor(x)) {
      throw new ParquetSinkError({
        kind: "invalid_batch",
        op: "encode",
        message: `${column}[${i}] = ${x} is not an integer in [0, 2^53)`,
      });
    }
  }
}

/** hyparquet-writer over the annotated schema: every value through its general path. */
function referenceEncode(
  input: EncodeInput,
  kv: Record<string, string>,
  level: number,
  rowGroupRows: number,
): Uint8Array {
  const { table, rows, columns } = input;
  const schema = TABLE_SCHEMAS[table];
  // biome-ignore lint/suspicious/noExplicitAny: hyparquet-writer's ColumnSource type is loose JS.
  const columnData: any[] = [];
  for (const col of schema.columns) {
    const slot = slotOf(table, col.name);
    const entry: { name: string; data: unknown; encoding?: string; columnIndex?: boolean } = {
      name: col.name,
      data: null,
    };
    switch (slot) {
      case "exchange":
      case "symbol":
        entry.data = new Array<string>(rows).fill(slot === "exchange" ? input.exchange : input.symbol);
        entry.encoding = "RLE_DICTIONARY";
        break;
      case "side":
      case "book_side":
      case "level_state": {
        const fc = FLAG_COLUMNS[slot];
        const text = new Array<string>(rows);
        for (let i = 0; i < rows; i++) text[i] = fc.values[fc.index(columns.flags[i]!)] as string;
        entry.data = text;
        entry.encoding = "RLE_DICTIONARY";
        break;
      }
      case "flags":
      case "is_snapshot":
      case "is_verified": {
        const fc = FLAG_COLUMNS[slot];
        const b = new Array<boolean>(rows);
        for (let i = 0; i < rows; i++) b[i] = fc.values[fc.index(columns.flags[i]!)] === true;
        entry.data = b;
        break;
      }
      case "dec0":
      case "dec1":
      case "dec2":
      case "dec3":
        entry.data = columns[slot].subarray(0, rows);
        break;
      default:
        // Ids and times rise row by row: delta packing stores them in ~0.01 bytes each.
        entry.data = toInt64(columns[slot], rows);
        entry.encoding = "DELTA_BINARY_PACKED";
        entry.columnIndex = slot === "id" || slot === "event_time_us";
    }
    columnData.push(entry);
  }
  const writer = new ByteWriter();
  const pq = new ParquetWriter({
    writer,
    schema: schema.annotated,
    codec: "ZSTD",
    compressors: { ZSTD: (b: Uint8Array) => Bun.zstdCompressSync(b, { level }) },
    statistics: true,
    kvMetadata: Object.entries(kv).map(([key, value]) => ({ key, value })),
    createdBy: WRITER_INFO,
  });
  pq.write({ columnData, rowGroupSize: rowGroupRows });
  pq.finish();
  return new Uint8Array(writer.getBuffer());
}
