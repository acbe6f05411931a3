/**
 * Parquet sink conformance: every case in parquet.case.ts is written through the worker pool
 * (under each writer configuration) and read back by hyparquet and by DuckDB, exactly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { formatDecimal, TABLE_COLUMNS } from "../../src/model/index.ts";
import {
  buildBatch,
  dateOfUs,
  encodeParquet,
  type FileInfo,
  META,
  ParquetWriterPool,
  readFileInfo,
  readParquetRows,
  SCHEMA_VERSION,
} from "../../src/sink/parquet/index.ts";
import { CASES, encodeInputOf, expectedRows } from "./parquet.case.ts";

const CONFIGS = [
  { name: "default writer", opts: {} },
  // Many small row groups: reading must stitch groups back together in order.
  { name: "small row groups", opts: { rowGroupRows: 333 } },
] as const;

const DUCK_TYPE: Record<string, string> = {
  string: "VARCHAR",
  int64: "BIGINT",
  decimal: "DECIMAL(18,8)",
  timestamp_us: "TIMESTAMP WITH TIME ZONE",
  boolean: "BOOLEAN",
};

let root: string;
let duck: Awaited<ReturnType<DuckDBInstance["connect"]>>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "k2-parquet-conf-"));
  duck = await (await DuckDBInstance.create(":memory:")).connect();
});
afterAll(() => {
  duck.closeSync();
  rmSync(root, { recursive: true, force: true });
});

async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

for (const cfg of CONFIGS) {
  describe(`parquet sink conformance: ${cfg.name}`, () => {
    let pool: ParquetWriterPool;
    let dataDir: string;
    beforeAll(async () => {
      dataDir = join(root, cfg.name.replace(/\W+/g, "-"));
      pool = await ParquetWriterPool.start({ dataDir, workers: 1, ...cfg.opts });
    });
    afterAll(() => pool.close());

    for (const c of CASES) {
      test(c.name, async () => {
        const symbolId = 3;
        const { rows, n } = c.build(symbolId);
        const slots = Array.from({ length: n }, (_, i) => i);
        const batch = buildBatch(c.table, c.symbol, symbolId, rows, slots);
        const want = expectedRows(c.table, c.symbol, rows, n);
        const detached = batch.columns.id;
        const pending = pool.write(batch);
        // Transferred, not copied: the batch's old buffers are detached while the worker owns them.
        expect(batch.writing).toBe(true);
        expect(detached.byteLength).toBe(0);
        const info: FileInfo = await pending;
        expect(batch.writing).toBe(false);
        expect(batch.rows).toBe(0);
        expect(batch.columns.id.length).toBe(n);

        // Layout and FileInfo.
        const date = dateOfUs(rows.event_time_us[0]!);
        expect(info.path).toBe(join(dataDir, c.table, `date=${date}`, `symbol=${c.symbol}`, info.name));
        expect(info.name).toMatch(/^\d{16}-\d{16}-\d{13}-\d{6}\.parquet$/);
        expect(readdirSync(dirname(info.path)).filter((f) => f.startsWith("."))).toEqual([]);
        const ids = want.map((r) => Number(Object.values(r)[2]));
        const times = want.map((r) => Number(r.event_time_us));
        expect({ rows: info.rows, minId: info.minId, maxId: info.maxId }).toEqual({
          rows: n,
          minId: Math.min(...ids),
          maxId: Math.max(...ids),
        });
        expect([info.minEventTimeUs, info.maxEventTimeUs]).toEqual([Math.min(...times), Math.max(...times)]);
        expect(await readFileInfo(info.path)).toEqual(info);

        // hyparquet: identical rows, stored column names in stored order.
        const got = await readParquetRows(info.path);
        expect(got.length).toBe(n);
        expect(Object.keys(got[0]!)).toEqual(TABLE_COLUMNS[c.table].map((col) => col.name));
        expect(got).toEqual(want);

        // DuckDB: declared types, hive columns, exact values.
        const src = `read_parquet(['${info.path}'], hive_partitioning=true)`;
        const desc = await duckRows(`DESCRIBE SELECT * FROM ${src}`);
        const types = Object.fromEntries(desc.map((d) => [d.column_name as string, d.column_type as string]));
        for (const col of TABLE_COLUMNS[c.table])
          expect(`${col.name}:${types[col.name]}`).toBe(`${col.name}:${DUCK_TYPE[col.type]}`);
        expect(types.date).toBe("DATE");
        const sel = TABLE_COLUMNS[c.table]
          .map((col) =>
            col.type === "decimal"
              ? `${col.name}::VARCHAR AS ${col.name}`
              : col.type === "timestamp_us"
                ? `epoch_us(${col.name}) AS ${col.name}`
                : col.name,
          )
          .join(", ");
        const idCol = Object.keys(want[0]!)[2]!;
        const fromDuck = await duckRows(`SELECT ${sel}, date::VARCHAR AS d FROM ${src} ORDER BY ${idCol}`);
        expect(fromDuck.length).toBe(n);
        const expectDuck = want.map((r) => {
          const o: Record<string, unknown> = {};
          for (const col of TABLE_COLUMNS[c.table]) {
            const v = r[col.name]!;
            o[col.name] = col.type === "decimal" ? formatDecimal(v as bigint) : v;
          }
          o.d = date;
          return o;
        });
        expect(fromDuck).toEqual(expectDuck);
      });
    }

    test("footer metadata carries schema version, writer info and ranges", async () => {
      const c = CASES[0]!;
      const { rows, n } = c.build(1);
      const info = await pool.write(
        buildBatch(
          c.table,
          c.symbol,
          1,
          rows,
          Array.from({ length: n }, (_, i) => i),
        ),
      );
      const kv = await duckRows(
        `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${info.path}') ORDER BY k`,
      );
      const m = Object.fromEntries(kv.map((e) => [e.k, e.v]));
      expect(m[META.schemaVersion]).toBe(String(SCHEMA_VERSION));
      expect(m[META.table]).toBe(c.table);
      expect(m[META.minId]).toBe(String(info.minId));
      expect(m[META.maxId]).toBe(String(info.maxId));
      expect(m[META.writer]).toContain("k2 parquet-sink");
      const stats = await duckRows(
        `SELECT count(DISTINCT row_group_id) AS groups, bool_and(stats_min_value IS NOT NULL AND stats_max_value IS NOT NULL) AS has_stats, max(compression) AS codec FROM parquet_metadata('${info.path}')`,
      );
      expect(stats[0]!.has_stats).toBe(true);
      expect(stats[0]!.codec).toBe("ZSTD");
      expect(Number(stats[0]!.groups)).toBe(cfg.name === "small row groups" ? Math.ceil(n / 333) : 1);
    });
  });
}

test("K2's column writer and hyparquet-writer (reference) store the same values, types and statistics", async () => {
  for (const c of CASES) {
    const { rows, n } = c.build(0);
    const input = encodeInputOf(c, rows, n);
    for (const rowGroupRows of [65_536, 333]) {
      const fast = encodeParquet(input, { fast: true, rowGroupRows }).bytes;
      const ref = encodeParquet(input, { fast: false, rowGroupRows }).bytes;
      const dir = join(root, `ref-${c.name.replace(/\W+/g, "-")}-${rowGroupRows}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "fast.parquet"), fast);
      writeFileSync(join(dir, "ref.parquet"), ref);
      // Values as hyparquet decodes them, column by column.
      expect(await readParquetRows(join(dir, "fast.parquet"))).toEqual(
        await readParquetRows(join(dir, "ref.parquet")),
      );
      // Types, row groups and min/max statistics as DuckDB reads them from each footer.
      const meta = (f: string) =>
        duckRows(
          `SELECT row_group_id, path_in_schema, type, stats_min_value, stats_max_value, stats_null_count, num_values, compression FROM parquet_metadata('${join(dir, f)}') ORDER BY row_group_id, column_id`,
        );
      expect(await meta("fast.parquet")).toEqual(await meta("ref.parquet"));
      const schema = (f: string) =>
        duckRows(
          `SELECT name, type, converted_type, scale, precision, logical_type FROM parquet_schema('${join(dir, f)}')`,
        );
      expect(await schema("fast.parquet")).toEqual(await schema("ref.parquet"));
    }
  }
});

test("ids whose deltas span more than 2^53 fall back to the reference writer, values intact", async () => {
  const c = CASES[0]!;
  const { rows, n } = c.build(0);
  const big = Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < n; i++) rows.id[i] = i % 2 === 0 ? i : big - i; // 0, 2^53-2, 2, …
  const input = encodeInputOf(c, rows, n);
  const path = join(root, "fallback.parquet");
  writeFileSync(path, encodeParquet(input).bytes);
  const ids = (await readParquetRows(path)).map((r) => r.trade_id);
  expect(ids).toEqual(Array.from({ length: n }, (_, i) => BigInt(i % 2 === 0 ? i : big - i)));
});
