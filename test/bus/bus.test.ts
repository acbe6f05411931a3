/**
 * src/bus against a real 3-node JetStream cluster on loopback: the stream is created and brought
 * to our settings, two publishers' copies of a row are stored once, the ack window bounds and
 * retries, and writer shards read disjoint symbol sets with redelivery until commit.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  BUS_STREAM_DEFAULTS,
  BusError,
  BusPublisher,
  BusReader,
  type BusStreamConfig,
  batchMsgId,
  decodeKline,
  decodeRows,
  encodeKline,
  encodeRows,
  ensureStream,
  klineSubjectOf,
  type OutBatch,
  rowMsgId,
  shardOf,
  subjectOf,
} from "../../src/bus/index.ts";
import { allocRowColumns, Table, type TableName } from "../../src/model/index.ts";
import { allocKlineColumns } from "../../src/model/kline.ts";
import { type NatsCluster, startNatsCluster } from "../support/nats-cluster.ts";

let cluster: NatsCluster;
let nc: NatsConnection;
let nc2: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  cluster = await startNatsCluster();
});

afterAll(async () => {
  await cluster?.stopAll();
});

// Connections per test, closed by it: a client that reconnects (a loaded machine) arms timers
// that only close() clears, and the test guard counts a timer left behind as a leak.
beforeEach(async () => {
  nc = await cluster.connect();
  nc2 = await cluster.connect();
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});

afterEach(async () => {
  await nc.close();
  await nc2.close();
});

/** The stream `name` with K2's settings, after removing any left by an earlier test (all capture k2.>). */
async function freshStream(name: string, more: Partial<BusStreamConfig> = {}) {
  for await (const n of jsm.streams.names()) await jsm.streams.delete(n);
  return ensureStream(jsm, { ...BUS_STREAM_DEFAULTS, ...more, name });
}

/** One encoded message of `ids` for (table, symbol). */
function body(table: TableName, ids: readonly number[]): Uint8Array {
  const r = allocRowColumns(ids.length);
  for (const [i, id] of ids.entries()) {
    r.kind[i] = Table[table];
    r.id[i] = id;
    r.event_time_us[i] = 1_764_000_000_000_000 + id;
    r.dec0[i] = BigInt(id) * 100_000_000n;
  }
  return encodeRows(r, 0, ids.length, table);
}

describe("ensureStream", () => {
  test("creates a file-backed R3 stream on k2.>, then brings a changed setting up to date", async () => {
    const cfg = { ...BUS_STREAM_DEFAULTS, name: "S1", duplicateWindowMs: 60_000, maxAgeMs: 3_600_000 };
    const created = await freshStream("S1", cfg);
    expect(created.config.num_replicas).toBe(3);
    expect(created.config.storage).toBe("file");
    expect(created.config.subjects).toEqual(["k2.>"]);
    expect(created.config.duplicate_window).toBe(60_000 * 1e6);
    const updated = await ensureStream(jsm, { ...cfg, duplicateWindowMs: 30_000 });
    expect((await jsm.streams.info("S1")).config.duplicate_window).toBe(30_000 * 1e6);
    expect(updated.config.discard).toBe("new");
    await jsm.streams.delete("S1");
  });

  test("a same-named stream K2 cannot use, and a window longer than max age, are config errors", async () => {
    for await (const n of jsm.streams.names()) await jsm.streams.delete(n);
    await jsm.streams.add({ name: "MEM", subjects: ["mem.>"], storage: "memory" as never, num_replicas: 1 });
    const err = await ensureStream(jsm, { ...BUS_STREAM_DEFAULTS, name: "MEM" }).catch((e) => e);
    expect(err).toBeInstanceOf(BusError);
    expect(err.message).toMatch(/exists with memory storage .* K2 needs file/);
    await jsm.streams.delete("MEM");
    expect(() => ensureStream(jsm, { ...BUS_STREAM_DEFAULTS, maxAgeMs: 1000 })).toThrow(
      /duplicate window \(120000 ms\) cannot be longer than max age \(1000 ms\)/,
    );
  });
});

describe("BusPublisher", () => {
  test("two publishers send the same one-row messages: the stream keeps each row once", async () => {
    await freshStream("P1");
    const acked: number[][] = [[], []];
    const pubs = [jetstream(nc), jetstream(nc2)].map(
      (j, k) =>
        new BusPublisher(j, {
          shards: 4,
          maxInFlight: 64,
          ackTimeoutMs: 2000,
          onAcked: (b) => acked[k]!.push(b.token),
        }),
    );
    const ids = Array.from({ length: 200 }, (_, i) => 1000 + i);
    // Interleaved like two recorders of one market: the same ids, each from both.
    for (const id of ids)
      for (const p of pubs) {
        const b: OutBatch = {
          table: "trades",
          symbol: "BTCUSDT",
          body: body("trades", [id]),
          msgId: rowMsgId("trades", "BTCUSDT", id),
          token: id,
        };
        while (!p.send(b)) await p.whenRoom();
      }
    await Promise.all(pubs.map((p) => p.idle()));
    const info = await jsm.streams.info("P1");
    expect(info.state.messages).toBe(ids.length);
    expect(pubs[0]!.stats.duplicates + pubs[1]!.stats.duplicates).toBe(ids.length);
    for (const [k, p] of pubs.entries()) {
      expect(p.ackedThrough).toBe(1199);
      expect(acked[k]!.toSorted((a, b) => a - b)).toEqual(ids);
    }
    await jsm.streams.delete("P1");
  });

  test("the window bounds what is unacked; a publish with no stream yet is retried until acked", async () => {
    const pub = new BusPublisher(js, { shards: 1, maxInFlight: 3, ackTimeoutMs: 500, retryMaxDelayMs: 200 });
    const mk = (token: number): OutBatch => ({
      table: "quotes",
      symbol: "ETHUSDT",
      body: body("quotes", [token]),
      msgId: batchMsgId("r1", "quotes", "ETHUSDT", token, token),
      token,
    });
    expect([pub.send(mk(1)), pub.send(mk(2)), pub.send(mk(3)), pub.send(mk(4))]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(pub.stats.refused).toBe(1);
    await Bun.sleep(300);
    // Nothing answers on k2.> yet: every batch is still held, and retried.
    expect(pub.ackedThrough).toBe(Number.NEGATIVE_INFINITY);
    expect(pub.stats.retries).toBeGreaterThan(0);
    expect(pub.lastError?.retryable).toBe(true);
    await freshStream("P2");
    await pub.idle();
    expect(pub.ackedThrough).toBe(3);
    expect(pub.send(mk(4))).toBe(true);
    await pub.idle();
    expect((await jsm.streams.info("P2")).state.messages).toBe(4);
    expect(() => pub.send(mk(4))).toThrow(/token 4 does not follow 4/);
    pub.close();
    await jsm.streams.delete("P2");
  });
});

describe("BusReader", () => {
  test("two writer shards read disjoint symbol sets; uncommitted messages come back after ack-wait", async () => {
    await freshStream("R1");
    const symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "BNBUSDT"];
    const pub = new BusPublisher(js, { shards: 2, maxInFlight: 32, ackTimeoutMs: 2000 });
    let token = 0;
    for (const s of symbols)
      pub.send({
        table: "agg_trades",
        symbol: s,
        body: body("agg_trades", [1, 2, 3]),
        msgId: batchMsgId("r1", "agg_trades", s, 1, 3),
        token: ++token,
      });
    await pub.idle();

    const opts = { stream: "R1", shards: 2, ackWaitMs: 1000, maxAckPending: 100 };
    const readers = [
      await BusReader.open(nc, js, jsm, { ...opts, shard: 0 }),
      await BusReader.open(nc, js, jsm, { ...opts, shard: 1 }),
    ];
    const seen: string[][] = [];
    for (const [shard, r] of readers.entries()) {
      const got = await r.fetch(100, 1000);
      expect(got.rejected).toEqual([]);
      seen.push(got.messages.map((m) => m.symbol).toSorted());
      for (const m of got.messages) {
        expect(m.shard).toBe(shard);
        expect(shardOf(m.symbol, 2)).toBe(shard);
        const rows = allocRowColumns(3);
        if (m.kind !== "rows") throw new Error(`a ${m.kind} message where rows were published`);
        expect(decodeRows(m.body, m.table, rows, 0, 0)).toBe(3);
        expect([...rows.id]).toEqual([1, 2, 3]);
      }
      if (shard === 0) await r.commit(got.messages);
    }
    expect([...seen[0]!, ...seen[1]!].toSorted()).toEqual(symbols.toSorted());
    expect(seen[0]!.length).toBeGreaterThan(0);
    expect(seen[1]!.length).toBeGreaterThan(0);

    // Shard 1 did not commit: after ack-wait (1 s) its messages are delivered again; shard 0's are not.
    // (At most as many as before: within one longer fetch the server would redeliver every second.)
    const again = await readers[1]!.fetch(seen[1]!.length, 2500);
    expect(again.messages.map((m) => m.symbol).toSorted()).toEqual(seen[1]!);
    for (const m of again.messages) expect(m.deliveries).toBe(2);
    await readers[1]!.commit(again.messages);
    expect((await readers[0]!.fetch(100, 1000)).messages).toEqual([]);
    await expect(readers[1]!.commit(again.messages)).rejects.toThrow(/already committed/);
    for (const r of readers) r.close();
    await jsm.streams.delete("R1");
  }, 10_000);

  test("a message no recorder wrote is terminated and reported, not redelivered forever", async () => {
    await freshStream("R2");
    await js.publish("k2.orders.0.BTCUSDT", "x");
    const r = await BusReader.open(nc, js, jsm, {
      stream: "R2",
      shard: 0,
      shards: 1,
      ackWaitMs: 1000,
      maxAckPending: 10,
    });
    const got = await r.fetch(10, 1000);
    expect(got.messages).toEqual([]);
    expect(got.rejected.map((x) => x.subject)).toEqual(["k2.orders.0.BTCUSDT"]);
    expect(got.rejected[0]!.error.message).toMatch(/is not k2\.<table>\.<shard>\.<SYMBOL>/);
    await Bun.sleep(1200);
    expect((await r.fetch(10, 1000)).rejected).toEqual([]);
    r.close();
    await jsm.streams.delete("R2");
  }, 10_000);

  test("a closed kline reaches the writer of its symbol's shard as a kline message, beside its rows", async () => {
    await freshStream("R3");
    const k = allocKlineColumns(1);
    k.open_time_us[0] = 1_735_776_000_000_000;
    k.first_id[0] = 1;
    k.last_id[0] = 3;
    k.trades[0] = 3;
    k.volume[0] = 300_000_000n;
    k.closed[0] = 1;
    const shard = shardOf("ETHUSDT", 2);
    await js.publish(klineSubjectOf("ETHUSDT", 2), encodeKline(k, 0));
    await js.publish(subjectOf("trades", "ETHUSDT", 2), body("trades", [1, 2, 3]));
    const opts = { stream: "R3", shards: 2, ackWaitMs: 1000, maxAckPending: 10 };
    const mine = await BusReader.open(nc, js, jsm, { ...opts, shard });
    const other = await BusReader.open(nc, js, jsm, { ...opts, shard: 1 - shard });
    const got = await mine.fetch(10, 1000);
    expect(got.rejected).toEqual([]);
    expect(got.messages.map((m) => [m.kind, m.symbol, m.shard])).toEqual([
      ["kline", "ETHUSDT", shard],
      ["rows", "ETHUSDT", shard],
    ]);
    const back = allocKlineColumns(1);
    decodeKline(got.messages[0]!.body, back, 0, 5);
    expect([back.open_time_us[0], back.last_id[0], back.volume[0], back.closed[0]]).toEqual([
      1_735_776_000_000_000,
      3,
      300_000_000n,
      1,
    ]);
    await mine.commit(got.messages);
    expect((await other.fetch(10, 1000)).messages).toEqual([]);
    for (const r of [mine, other]) r.close();
    await jsm.streams.delete("R3");
  }, 10_000);
});
