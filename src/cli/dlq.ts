/**
 * `k2 dlq stats|export|replay`: read `<data dir>/dlq` offline, read-only. Safe while K2 runs: the
 * persister only appends to its newest file (a half-written last line is skipped and reported)
 * and deletes its oldest at the size cap (a file gone mid-read ends with exit 1: run again).
 * Exit 0 ok, also for an empty folder (nothing dead-lettered is the healthy state); 1 when the
 * folder is missing or cannot be read; 2 with one line and the usage for bad arguments.
 */
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { parseDlqFileName } from "../sink/dlq/format.ts";
import { type DlqEntry, encodeDlqLine, readDlq } from "../sink/dlq/index.ts";
import { CliArgError } from "./args.ts";
import { DLQ_USAGE, type DlqArgs, parseDlqArgs } from "./dlq-args.ts";
import {
  type DlqReplayReport,
  formatReplay,
  parquetStoredCheck,
  replayDlq,
  symbolsInFrames,
} from "./dlq-replay.ts";
import { collectStats, type DlqFolder, formatStats } from "./dlq-stats.ts";
import type { CliIo } from "./query.ts";

/** The folder problem that ends the command with exit 1. */
class DlqFolderError extends Error {}

/** Skipped-line warnings printed before "... and N more". */
const MAX_WARNINGS = 10;
/** Export output is written in chunks of about this many bytes. */
const WRITE_CHUNK_BYTES = 64 * 1024;

export function openDlqFolder(dataDir: string): DlqFolder {
  const dir = resolve(dataDir, "dlq");
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new DlqFolderError(
      `no dead-letter folder ${dir} (expected <data dir>/dlq: pass --data-dir or set K2_DATA_DIR to the running K2's)`,
    );
  const files = readdirSync(dir)
    .map((name) => [parseDlqFileName(name), name] as const)
    .filter((f): f is readonly [number, string] => f[0] !== null)
    .sort((a, b) => a[0] - b[0])
    .map(([, name]) => ({ name, bytes: statSync(join(dir, name)).size }));
  return { dir, files };
}

export async function runDlqCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: DlqArgs;
  try {
    args = parseDlqArgs(argv, io.env);
  } catch (e) {
    if (!(e instanceof CliArgError)) throw e;
    io.error(`k2 dlq: ${e.message}`);
    io.error(DLQ_USAGE);
    return 2;
  }
  const text = (s: string) => io.write(new TextEncoder().encode(`${s}\n`));
  if (args.kind === "help") {
    await text(args.text);
    return 0;
  }
  try {
    const folder = openDlqFolder(args.dataDir);
    // A Set: replay reads the folder more than once and must report each bad line once.
    const bad = new Set<string>();
    const entries = () =>
      readDlq(folder.dir, { onBadLine: (file, line, reason) => bad.add(`${file} line ${line}: ${reason}`) });
    const warn = () => {
      for (const b of [...bad].slice(0, MAX_WARNINGS)) io.error(`k2 dlq: skipped ${b}`);
      if (bad.size > MAX_WARNINGS) io.error(`k2 dlq: ... and ${bad.size - MAX_WARNINGS} more skipped lines`);
    };

    if (args.kind === "stats") {
      const s = collectStats(folder, entries(), () => bad.size);
      warn();
      await text(args.json ? JSON.stringify(s) : formatStats(s));
      return 0;
    }

    if (args.kind === "export") {
      if (folder.files.length === 0)
        io.error(`k2 dlq: nothing was dead-lettered (${folder.dir} holds no <seq>.ndjson files)`);
      await exportEntries(entries(), args, io);
      warn();
      return 0;
    }

    await replay(args, folder, entries, io);
    warn();
    return 0;
  } catch (e) {
    if (e instanceof DlqFolderError) {
      io.error(`k2 dlq: ${e.message}`);
      return 1;
    }
    const code = (e as { code?: string }).code;
    if (code !== undefined) {
      io.error(`k2 dlq: ${(e as Error).message} (a running K2 may have rotated or deleted it: run again)`);
      return 1;
    }
    throw e;
  }
}

/** Re-decode, check storage, optionally write --out, print the report. */
async function replay(
  args: Extract<DlqArgs, { kind: "replay" }>,
  folder: DlqFolder,
  entries: () => Iterable<DlqEntry>,
  io: CliIo,
): Promise<void> {
  const symbols = args.symbols ?? symbolsInFrames(entries());
  const stored = await parquetStoredCheck(args.dataDir);
  const out = args.out ? openOut(args.out) : undefined;
  let report: DlqReplayReport;
  try {
    report = await replayDlq({ entries, symbols, stored: stored.check, ...(out ? { out: out.write } : {}) });
    out?.commit();
  } finally {
    out?.abandon();
  }
  for (const f of stored.unreadable())
    io.error(`k2 dlq: could not read ${f} (removed by compaction?): its ids count as not in parquet`);
  const outPath = args.out ? resolve(args.out) : undefined;
  const body = args.json
    ? JSON.stringify({ dir: folder.dir, ...report, ...(outPath ? { out: outPath } : {}) })
    : [
        formatReplay(report, folder.dir, args.symbols ? "--symbols" : "found in the frames"),
        ...(outPath ? ["", `wrote ${report.out_frames} frame(s) to ${outPath}`] : []),
      ].join("\n");
  await io.write(new TextEncoder().encode(`${body}\n`));
}

/** Matching entries as NDJSON, in file order, written in chunks. */
async function exportEntries(
  entries: Iterable<DlqEntry>,
  args: Extract<DlqArgs, { kind: "export" }>,
  io: CliIo,
): Promise<void> {
  let buf: string[] = [];
  let size = 0;
  let n = 0;
  for (const e of entries) {
    if (args.limit !== undefined && n >= args.limit) break;
    if (args.reason !== undefined && e.statusName !== args.reason) continue;
    if (args.sinceUs !== undefined && e.recvTimeUs < args.sinceUs) continue;
    // The persister wrote each line with encodeDlqLine, so re-encoding gives the stored bytes.
    const line = encodeDlqLine(e);
    buf.push(line);
    size += line.length;
    n++;
    if (size >= WRITE_CHUNK_BYTES) {
      await io.write(new TextEncoder().encode(buf.join("")));
      buf = [];
      size = 0;
    }
  }
  if (buf.length > 0) await io.write(new TextEncoder().encode(buf.join("")));
}

/** The --out file, written to a temporary name and renamed once complete. */
function openOut(path: string) {
  const final = resolve(path);
  const tmp = `${final}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  let open = true;
  return {
    write: (line: string) => {
      writeSync(fd, line);
    },
    commit: () => {
      closeSync(fd);
      open = false;
      renameSync(tmp, final);
    },
    abandon: () => {
      if (!open) return;
      closeSync(fd);
      open = false;
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    },
  };
}

/** Entry from src/main.ts: real stdout/stderr; env supplies K2_DATA_DIR / K2_LOCAL_DIR. */
export async function dlqMain(argv: readonly string[], env: Readonly<Record<string, string | undefined>>) {
  return runDlqCli(argv, {
    env,
    write: async (b) => {
      await Bun.write(Bun.stdout, b);
    },
    error: (line) => console.error(line),
  });
}
