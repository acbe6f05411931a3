/**
 * A query node's view of the newest rows: an ordered consumer on the stream from "now", whose rows
 * go to the hot window as a single process's ingest sends them there. The engine serves hot rows
 * only above the newest id in a visible file, so files stay the truth and the tail only adds
 * freshness: a row that arrives older than one already shown (the other recorder's late copy) is
 * refused by the hot window and appears once the writer's file does.
 */
import { DeliverPolicy } from "@nats-io/jetstream";
import { decodeRows, encodedRowCount, parseKlineSubject, parseSubject } from "../bus/index.ts";
import type { Config } from "../config/index.ts";
import { allocRowColumns, type RowColumns } from "../model/row.ts";
import type { SymbolTable } from "../model/symbols.ts";
import { isBookTable, Table } from "../model/tables.ts";
import type { Logger } from "../obs/logger.ts";
import type { Bus } from "./bus.ts";
import { BUS_BATCH_MAX_ROWS } from "./bus-sink.ts";
import { once } from "./subsystem.ts";

export interface BusTailDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly bus: Bus;
  readonly symbols: SymbolTable;
  readonly onRow: (rows: RowColumns, slot: number) => void;
}

export async function openBusTail(d: BusTailDeps) {
  const consumer = await d.bus.js.consumers.get(d.config.natsStream, { deliver_policy: DeliverPolicy.New });
  let scratch = allocRowColumns(BUS_BATCH_MAX_ROWS);
  const stats = { messages: 0, rows: 0, malformed: 0 };
  let messages: Awaited<ReturnType<typeof consumer.consume>> | undefined;
  let loop: Promise<void> | undefined;
  const run = async () => {
    messages = await consumer.consume();
    for await (const m of messages) {
      try {
        // Closed klines are the writers' to judge; the hot window holds rows only.
        if (parseKlineSubject(m.subject)) continue;
        const { table, symbol } = parseSubject(m.subject);
        // No hot window for order-book rows (query/hot.ts says why): not decoded at all.
        if (isBookTable(Table[table])) continue;
        const n = encodedRowCount(m.data);
        if (n > scratch.capacity) scratch = allocRowColumns(n);
        decodeRows(m.data, table, scratch, 0, d.symbols.intern(symbol));
        for (let i = 0; i < n; i++) d.onRow(scratch, i);
        stats.messages++;
        stats.rows += n;
      } catch (e) {
        stats.malformed++;
        d.log.warn({ subject: m.subject }, `bus tail: message skipped: ${(e as Error).message}`);
      }
    }
  };
  return {
    name: "bus-tail",
    stats,
    checks: {},
    start() {
      loop = run().catch((e) => d.log.warn(`bus tail stopped: ${(e as Error).message}`));
    },
    stop: once(async () => {
      await messages?.close();
      await loop;
    }),
  };
}
