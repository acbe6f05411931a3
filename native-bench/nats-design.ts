/**
 * Issue 14's design question, measured in one run against a private 3-node R3 JetStream cluster on
 * loopback: (a) one message per row, Nats-Msg-Id = (table, symbol, id), so JetStream drops the
 * second recorder's copy; (b) batched messages (one (table, symbol) each), msg id per recorder and
 * batch, duplicates left for the writers to drop on (table, symbol, id). Each design: two publisher
 * processes (two recorders) send the same rows with a bounded ack window (src/bus BusPublisher),
 * then one pull consumer (src/bus BusReader) reads the stream and counts rows and duplicates.
 * Last, the duplicate window's memory: server RSS after the same one-message-per-row traffic with a
 * 120 s window and with a 1 s one (which JetStream purges), in fresh clusters.
 *   bun run native-bench/nats-design.ts [--rows-a 60000] [--rows-b 600000] [--batch 500] [--json]
 * Child mode (a publisher): --publisher a|b --urls <u,u,u> --rows N --batch B --recorder rK.
 */

import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import {
  BUS_STREAM_DEFAULTS,
  type BusError,
  BusPublisher,
  BusReader,
  batchMsgId,
  decodeRows,
  encodeRows,
  ensureStream,
  type OutBatch,
  rowMsgId,
} from "../src/bus/index.ts";
import { allocRowColumns, SymbolTable, TABLE_NAMES, Table, type TableName } from "../src/model/index.ts";
import { type NatsCluster, startNatsCluster } from "../test/support/nats-cluster.ts";
import { numberFlag } from "./args.ts";

const HELP = `native-bench/nats-design.ts — one message per row vs batched messages on JetStream (issue 14)
  --rows-a N     rows each publisher sends in design (a), one message each (default 60000)
  --rows-b N     rows each publisher sends in design (b) (default 600000)
  --batch N      rows per message in design (b) (default 500)
  --window-a N   messages in flight per publisher in (a) (default 1024)
  --window-b N   batches in flight per publisher in (b) (default 64)
  --mem-msgs N   one-row messages for the duplicate-window memory measurement (default 150000)
  --symbols N    symbols the rows are spread over (default 50)
  --json         print one JSON line instead of the tables`;

/** Issue 14's throughput target (trade + aggTrade + bookTicker rows/s, above Binance's 50-pair burst). */
const TARGET_ROWS_PER_S = 30_000;
/** The duplicate window the design (a) needs: JetStream's default, longer than any retry. */
const DUP_WINDOW_MS = 120_000;

function str(argv: string[], name: string): string {
  const i = argv.indexOf(name);
  const v = argv[i + 1];
  if (i < 0 || v === undefined) {
    console.error(`${name}: required in publisher mode`);
    process.exit(2);
  }
  return v;
}

const symbolsOf = (n: number) => Array.from({ length: n }, (_, i) => `SYM${String(i).padStart(3, "0")}USDT`);

/** Row i of the shared feed: tables round-robin, symbols round-robin, id = i (unique per key). */
function rowKey(i: number, symbols: readonly string[]): { table: TableName; symbol: string; id: number } {
  return { table: TABLE_NAMES[i % 3]!, symbol: symbols[Math.floor(i / 3) % symbols.length]!, id: i + 1 };
}

/** One encoded message holding `ids` of (table, symbol); fields derived from the id. */
function encode(table: TableName, ids: readonly number[]): Uint8Array {
  const r = allocRowColumns(ids.length);
  for (const [k, id] of ids.entries()) {
    r.kind[k] = Table[table];
    r.id[k] = id;
    r.trade_time_us[k] = table === "quotes" ? 0 : 1_764_000_000_000_000 + id;
    r.event_time_us[k] = 1_764_000_000_000_000 + id;
    r.recv_time_us[k] = 1_764_000_000_000_100 + id;
    r.dec0[k] = 6_500_000_000_000n + BigInt(id);
    r.dec1[k] = 1_000_000n;
    if (table === "quotes") {
      r.dec2[k] = 6_500_100_000_000n;
      r.dec3[k] = 2_000_000n;
    }
  }
  return encodeRows(r, 0, ids.length, table);
}

/** The messages one recorder sends. In (b) recorder r2's first batch per key is half size, so the
 * two recorders' batch boundaries differ as they would in life and duplicates reach the writer. */
function messages(
  design: "a" | "b",
  rows: number,
  batch: number,
  recorder: string,
  nSym: number,
): OutBatch[] {
  const symbols = symbolsOf(nSym);
  const out: OutBatch[] = [];
  if (design === "a") {
    for (let i = 0; i < rows; i++) {
      const k = rowKey(i, symbols);
      out.push({ ...k, body: encode(k.table, [k.id]), msgId: rowMsgId(k.table, k.symbol, k.id), token: i });
    }
    return out;
  }
  const open = new Map<string, { table: TableName; symbol: string; ids: number[]; cut: number }>();
  const flush = (b: { table: TableName; symbol: string; ids: number[] }) => {
    const first = b.ids[0]!;
    const last = b.ids[b.ids.length - 1]!;
    out.push({
      table: b.table,
      symbol: b.symbol,
      body: encode(b.table, b.ids),
      msgId: batchMsgId(recorder, b.table, b.symbol, first, last),
      token: out.length,
    });
  };
  for (let i = 0; i < rows; i++) {
    const k = rowKey(i, symbols);
    const key = `${k.table}.${k.symbol}`;
    let b = open.get(key);
    if (!b) {
      b = {
        table: k.table,
        symbol: k.symbol,
        ids: [],
        cut: recorder === "r2" ? Math.ceil(batch / 2) : batch,
      };
      open.set(key, b);
    }
    b.ids.push(k.id);
    if (b.ids.length >= b.cut) {
      flush(b);
      b.ids = [];
      b.cut = batch;
    }
  }
  for (const b of open.values()) if (b.ids.length > 0) flush(b);
  return out;
}

interface PublisherResult {
  recorder: string;
  msgs: number;
  rows: number;
  ms: number;
  /** The publisher process's CPU time while publishing. */
  cpu_s: number;
  acked: number;
  duplicates: number;
  retries: number;
  refused: number;
}

/** Child: connect, encode everything, say ready, wait for "go" on stdin, publish, print the result. */
async function publisherMain(argv: string[]): Promise<void> {
  const design = str(argv, "--publisher") as "a" | "b";
  const urls = str(argv, "--urls").split(",");
  const recorder = str(argv, "--recorder");
  const rows = numberFlag(argv, "--rows", 1, { integer: true });
  const batch = numberFlag(argv, "--batch", 500, { integer: true });
  const window = numberFlag(argv, "--window", 1024, { integer: true });
  const nSym = numberFlag(argv, "--symbols", 50, { integer: true });
  const nc = await connect({ servers: urls, timeout: 5000 });
  const pub = new BusPublisher(jetstream(nc), { shards: 1, maxInFlight: window, ackTimeoutMs: 10_000 });
  const msgs = messages(design, rows, batch, recorder, nSym);
  console.log("ready");
  const reader = Bun.stdin.stream().getReader();
  await reader.read();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (const m of msgs) while (!pub.send(m)) await pub.whenRoom();
  await pub.idle();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  pub.close();
  await nc.close();
  const r: PublisherResult = {
    recorder,
    msgs: msgs.length,
    rows,
    ms,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    ...pub.stats,
  };
  console.log(JSON.stringify(r));
  // The stdin reader would keep the process alive.
  process.exit(0);
}

/** utime + stime of `pid` in seconds (fields 14 and 15 of /proc/<pid>/stat, after the comm field). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}
const pids = (c: NatsCluster) => c.names.map((_, i) => c.pid(i)!);

interface DesignResult {
  design: "a" | "b";
  rows_per_publisher: number;
  msgs_per_publisher: number[];
  publish_s: number;
  msgs_per_s: number;
  /** Distinct rows made durable (R3) per second of publishing. */
  rows_per_s: number;
  stream_msgs: number;
  jetstream_duplicates: number;
  consumer_rows: number;
  consumer_unique_rows: number;
  consumer_dup_rows: number;
  consume_s: number;
  consume_rows_per_s: number;
  consumer_fetch_errors: number;
  publisher_cpu_s: number[];
  server_cpu_s: number[];
  server_rss_mb: number[];
}

async function runDesign(
  c: NatsCluster,
  design: "a" | "b",
  o: { rows: number; batch: number; window: number; symbols: number },
): Promise<DesignResult> {
  const name = `D${design.toUpperCase()}`;
  const nc = await c.connect();
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, { ...BUS_STREAM_DEFAULTS, name, duplicateWindowMs: DUP_WINDOW_MS });
  const kids = ["r1", "r2"].map((recorder) =>
    Bun.spawn(
      [
        process.execPath,
        "run",
        import.meta.path,
        "--publisher",
        design,
        "--urls",
        c.urls.join(","),
        "--recorder",
        recorder,
        "--rows",
        String(o.rows),
        "--batch",
        String(o.batch),
        "--window",
        String(o.window),
        "--symbols",
        String(o.symbols),
      ],
      { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
    ),
  );
  const readers = kids.map((k) => k.stdout.getReader());
  const line = async (r: (typeof readers)[number], buf: { s: string }) => {
    while (!buf.s.includes("\n")) {
      const { value, done } = await r.read();
      if (done) throw new Error(`publisher ended early: ${buf.s}`);
      buf.s += new TextDecoder().decode(value);
    }
    const i = buf.s.indexOf("\n");
    const l = buf.s.slice(0, i);
    buf.s = buf.s.slice(i + 1);
    return l;
  };
  const bufs = kids.map(() => ({ s: "" }));
  await Promise.all(readers.map((r, i) => line(r, bufs[i]!)));
  const cpu0 = pids(c).map(cpuSeconds);
  for (const k of kids) {
    k.stdin.write("go\n");
    k.stdin.end();
  }
  const results = (await Promise.all(readers.map((r, i) => line(r, bufs[i]!)))).map(
    (l) => JSON.parse(l) as PublisherResult,
  );
  await Promise.all(kids.map((k) => k.exited));
  const cpu = pids(c).map((p, i) => cpuSeconds(p) - cpu0[i]!);
  const rss = pids(c).map((p) => rssBytes(p) / 2 ** 20);
  const publishS = Math.max(...results.map((r) => r.ms)) / 1000;
  const info = await jsm.streams.info(name);

  // One writer: every message of the stream, rows decoded, duplicates counted on (table, symbol, id).
  const js = jetstream(nc);
  const reader = await BusReader.open(nc, js, jsm, {
    stream: name,
    shard: 0,
    shards: 1,
    ackWaitMs: 30_000,
    maxAckPending: 20_000,
  });
  const symbols = new SymbolTable();
  const rows = allocRowColumns(Math.max(o.batch, 1));
  const seen = new Set<string>();
  let got = 0;
  let msgs = 0;
  let fetchErrors = 0;
  const t0 = performance.now();
  const deadline = t0 + 120_000;
  while (msgs < info.state.messages && performance.now() < deadline) {
    // A fetch that failed before any message (a missed heartbeat on a loaded machine) is retried:
    // nothing is lost, uncommitted messages come back.
    const f = await reader.fetch(design === "a" ? 2000 : 100, 5000).catch((e: BusError) => {
      if (!e.retryable) throw e;
      fetchErrors++;
      return { messages: [] };
    });
    for (const m of f.messages) {
      if (m.kind !== "rows") continue;
      const n = decodeRows(m.body, m.table, rows, 0, symbols.intern(m.symbol));
      for (let i = 0; i < n; i++) seen.add(`${m.table}.${m.symbol}.${rows.id[i]}`);
      got += n;
    }
    msgs += f.messages.length;
    await reader.commit(f.messages);
  }
  const consumeS = (performance.now() - t0) / 1000;
  reader.close();
  await jsm.streams.delete(name);
  await nc.close();
  return {
    design,
    rows_per_publisher: o.rows,
    msgs_per_publisher: results.map((r) => r.msgs),
    publish_s: round(publishS, 2),
    msgs_per_s: Math.round((results[0]!.msgs + results[1]!.msgs) / publishS),
    rows_per_s: Math.round(seen.size / publishS),
    stream_msgs: info.state.messages,
    jetstream_duplicates: results[0]!.duplicates + results[1]!.duplicates,
    consumer_rows: got,
    consumer_unique_rows: seen.size,
    consumer_dup_rows: got - seen.size,
    consume_s: round(consumeS, 2),
    consume_rows_per_s: Math.round(got / consumeS),
    consumer_fetch_errors: fetchErrors,
    publisher_cpu_s: results.map((r) => round(r.cpu_s, 1)),
    server_cpu_s: cpu.map((x) => round(x, 1)),
    server_rss_mb: rss.map((x) => round(x, 0)),
  };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

interface MemoryResult {
  msgs: number;
  window_ms: number;
  rss_idle_mb: number[];
  rss_after_mb: number[];
}

/**
 * Server RSS in a fresh cluster before and after `msgs` one-row messages with distinct msg ids,
 * published as design (a) does (acked, bounded window): a core publish without acks floods the
 * servers, which then drop messages and hold buffers that swamp what is measured.
 */
async function memoryRun(msgs: number, windowMs: number, nSym: number): Promise<MemoryResult> {
  const c = await startNatsCluster();
  try {
    const nc = await c.connect();
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, { ...BUS_STREAM_DEFAULTS, name: "MEM", duplicateWindowMs: windowMs });
    await Bun.sleep(1000);
    const idle = pids(c).map((p) => rssBytes(p) / 2 ** 20);
    const pub = new BusPublisher(jetstream(nc), { shards: 1, maxInFlight: 1024, ackTimeoutMs: 10_000 });
    for (const m of messages("a", msgs, 1, "r1", nSym)) while (!pub.send(m)) await pub.whenRoom();
    await pub.idle();
    pub.close();
    // Past the short window, so JetStream has purged its ids; the long window still holds all.
    await Bun.sleep(3000);
    const after = pids(c).map((p) => rssBytes(p) / 2 ** 20);
    const stored = (await jsm.streams.info("MEM")).state.messages;
    await nc.close();
    return {
      msgs: stored,
      window_ms: windowMs,
      rss_idle_mb: idle.map((x) => round(x, 1)),
      rss_after_mb: after.map((x) => round(x, 1)),
    };
  } finally {
    await c.stopAll();
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help")) {
    console.log(HELP);
    return;
  }
  if (argv.includes("--publisher")) return publisherMain(argv);
  const symbols = numberFlag(argv, "--symbols", 50, { integer: true });
  const batch = numberFlag(argv, "--batch", 500, { integer: true });
  const c = await startNatsCluster();
  let a: DesignResult;
  let b: DesignResult;
  try {
    a = await runDesign(c, "a", {
      rows: numberFlag(argv, "--rows-a", 60_000, { integer: true }),
      batch: 1,
      window: numberFlag(argv, "--window-a", 1024, { integer: true }),
      symbols,
    });
    b = await runDesign(c, "b", {
      rows: numberFlag(argv, "--rows-b", 600_000, { integer: true }),
      batch,
      window: numberFlag(argv, "--window-b", 64, { integer: true }),
      symbols,
    });
  } finally {
    await c.stopAll();
  }
  const json = argv.includes("--json");
  if (!json) printDesigns(a, b);
  const memMsgs = numberFlag(argv, "--mem-msgs", 150_000, { integer: true });
  const long = await memoryRun(memMsgs, DUP_WINDOW_MS, symbols);
  const short = await memoryRun(memMsgs, 1000, symbols);
  const growth = (m: MemoryResult) => m.rss_after_mb.map((x, i) => x - m.rss_idle_mb[i]!);
  const gl = growth(long);
  const gs = growth(short);
  // Per id: the extra growth with the long window, averaged over the three servers.
  const perIdBytes = (gl.reduce((s, x, i) => s + x - gs[i]!, 0) / gl.length / long.msgs) * 2 ** 20;
  const idsAtTarget = TARGET_ROWS_PER_S * (DUP_WINDOW_MS / 1000);
  const batchIdsAtTarget = 2 * Math.ceil(TARGET_ROWS_PER_S / batch) * (DUP_WINDOW_MS / 1000);
  const memory = {
    msgs: memMsgs,
    window_long_ms: DUP_WINDOW_MS,
    window_short_ms: 1000,
    long,
    short,
    bytes_per_id: Math.round(perIdBytes),
    design_a_ids_in_window_at_target: idsAtTarget,
    design_a_mb_per_server_at_target: Math.round((perIdBytes * idsAtTarget) / 2 ** 20),
    design_b_ids_in_window_at_target: batchIdsAtTarget,
    design_b_mb_per_server_at_target: round((perIdBytes * batchIdsAtTarget) / 2 ** 20, 1),
  };
  const out = { target_rows_per_s: TARGET_ROWS_PER_S, duplicate_window_ms: DUP_WINDOW_MS, a, b, memory };
  if (json) {
    console.log(JSON.stringify(out));
    return;
  }
  console.log(
    `duplicate window: ${long.msgs} / ${short.msgs} ids stored, RSS growth per server ${gl.map((x) => round(x, 1)).join("/")} MB (120 s window) vs ${gs.map((x) => round(x, 1)).join("/")} MB (1 s window)`,
  );
  console.log(
    `  ≈ ${memory.bytes_per_id} B per id → (a) ${idsAtTarget} ids in a 120 s window at ${TARGET_ROWS_PER_S} rows/s ≈ ${memory.design_a_mb_per_server_at_target} MB per server; (b) ${batchIdsAtTarget} ids ≈ ${memory.design_b_mb_per_server_at_target} MB`,
  );
}

/** The design table first, so a failure in the memory part does not lose it. */
function printDesigns(a: DesignResult, b: DesignResult): void {
  console.log(
    `3-node R3 cluster on loopback, 2 publishers, target ${TARGET_ROWS_PER_S} rows/s; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")} on ${availableParallelism()} cores`,
  );
  console.log(
    "design | msgs/pub | publish s | msgs/s | rows/s | stream msgs | JS dups | consumer rows | dup rows | consume rows/s | publisher CPU s | server CPU s | server RSS MB",
  );
  for (const d of [a, b])
    console.log(
      `${d.design} | ${d.msgs_per_publisher.join("/")} | ${d.publish_s} | ${d.msgs_per_s} | ${d.rows_per_s} | ${d.stream_msgs} | ${d.jetstream_duplicates} | ${d.consumer_rows} | ${d.consumer_dup_rows} | ${d.consume_rows_per_s} | ${d.publisher_cpu_s.join("/")} | ${d.server_cpu_s.join("/")} | ${d.server_rss_mb.join("/")}`,
    );
}

await main(process.argv.slice(2));
