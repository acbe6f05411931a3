import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SymbolLookup } from "../../decode/binance/index.ts";
import { GapLedger } from "../../ingest/gap-ledger.ts";
import { FrameTag } from "../../ingest/ingest.ts";
import { replayWal } from "../../ingest/replay.ts";
import { Sequencer } from "../../ingest/sequencer.ts";
import { SymbolTable } from "../../model/symbols.ts";
import { Ring } from "../../ring/ring.ts";
import { readWal, WalWriter } from "../wal/index.ts";
import { tempDir } from "../wal/testdata/fixtures.ts";
import { encodeDlqLine } from "./format.ts";
import { adoptReplayIn } from "./replay-in.ts";

const trade = (id: number) =>
  `{"e":"trade","E":1700000000000000,"s":"BTCUSDT","t":${id},"p":"100.50000000","q":"0.10000000","T":1700000000000000,"m":true,"M":true}`;
const line = (frame: string | Uint8Array, recv = 7) =>
  encodeDlqLine({ frame, status: 7, statusName: "bad_decimal", recvTimeUs: recv });

let dir = "";
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir("replay-in"));
});
afterEach(() => cleanup());

/** WAL replay as the pipeline runs it at start, with `stored` as the ids in Parquet files. */
async function replay(stored: number[]) {
  const symbols = new SymbolTable(["BTCUSDT"]);
  const ring = new Ring(64);
  const report = await replayWal({
    records: () => readWal(join(dir, "wal")),
    lookup: new SymbolLookup(symbols),
    symbols,
    ring,
    walSeqBySlot: new Float64Array(64),
    stored: {
      idsBetween: async (_t, _s, from, to) => new Set(stored.filter((id) => id >= from && id <= to)),
      maxId: () => Math.max(-1, ...stored),
    },
    sequencer: new Sequencer(),
    ledger: new GapLedger(),
    onGap: () => {},
    makeRoom: async () => {},
    nowUs: () => 1,
    gapMaxIds: 1000,
  });
  const ids: number[] = [];
  ring.drain(64, (rows, slot) => ids.push(rows.id[slot]!));
  return { report, ids };
}

describe("adoptReplayIn", () => {
  test("no folder: nothing to do", async () => {
    const wal = WalWriter.open({ dir: join(dir, "wal") });
    expect(await adoptReplayIn(join(dir, "replay-in"), wal, FrameTag.REST)).toEqual({
      files: 0,
      frames: 0,
      skipped: 0,
      leftInPlace: null,
    });
    await wal.close();
  });

  test("frames join the WAL, WAL replay stores only ids no file holds, each once, even after a re-run", async () => {
    const inDir = join(dir, "replay-in");
    mkdirSync(inDir);
    const bytes = new TextEncoder().encode(trade(12)); // kept as enc "utf8"
    writeFileSync(
      join(inDir, "recovered.ndjson"),
      [
        line(trade(11)),
        line(bytes),
        line(trade(13)),
        "not json\n",
        line(new Uint8Array([0xff])),
        "{torn",
      ].join(""),
    );
    let wal = WalWriter.open({ dir: join(dir, "wal") });
    expect(await adoptReplayIn(inDir, wal, FrameTag.REST)).toEqual({
      files: 1,
      frames: 3,
      skipped: 3,
      leftInPlace: null,
    });
    await wal.close();
    expect(readdirSync(inDir)).toEqual(["recovered.ndjson.done"]);
    expect([...readWal(join(dir, "wal"))].map((r) => [r.payload, r.tag])).toEqual([
      [trade(11), FrameTag.REST],
      [trade(12), FrameTag.REST],
      [trade(13), FrameTag.REST],
    ]);

    // A crash before the rename: the same file is adopted again on the next start.
    writeFileSync(join(inDir, "again.ndjson"), line(trade(11)));
    wal = WalWriter.open({ dir: join(dir, "wal") });
    expect((await adoptReplayIn(inDir, wal, FrameTag.REST)).frames).toBe(1);
    await wal.close();

    // Gap repair already stored 12: only 11 and 13 go to the ring, 11 once.
    const r = await replay([12]);
    expect(r.ids).toEqual([11, 13]);
    expect(r.report).toMatchObject({ records: 4, replayed: 2, alreadyStored: 1, duplicatesInWal: 1 });
  });

  test("a refusing WAL leaves the file in place for the next start", async () => {
    const inDir = join(dir, "replay-in");
    mkdirSync(inDir);
    writeFileSync(join(inDir, "a.ndjson"), line(trade(11)));
    const refusing = { append: () => -1, sync: async () => 0 };
    expect(await adoptReplayIn(inDir, refusing, FrameTag.REST)).toEqual({
      files: 0,
      frames: 0,
      skipped: 0,
      leftInPlace: join(inDir, "a.ndjson"),
    });
    expect(existsSync(join(inDir, "a.ndjson"))).toBe(true);
  });
});
