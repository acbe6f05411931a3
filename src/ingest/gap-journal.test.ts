import { afterEach, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GapJournal, JOURNAL_FILE, readJournal } from "./gap-journal.ts";
import { GapLedger } from "./gap-ledger.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "k2-gap-journal-"));
  dirs.push(d);
  return d;
};

/** A ledger writing to a journal in `dir`, as the ingest subsystem wires them. */
function journaled(dir: string, capacity = 100) {
  const restored = readJournal(dir, capacity);
  const ledger = new GapLedger(capacity);
  ledger.restore(restored.entries, restored.entries.at(-1)?.id ?? 0);
  const journal = new GapJournal(dir, capacity, restored.lines);
  ledger.onChange = (e) => journal.note(e);
  return { ledger, journal, restored, flush: () => journal.flush(() => ledger.entries()) };
}

test("every change is written down; the last state of each entry comes back", () => {
  const dir = tempDir();
  const a = journaled(dir);
  const g1 = a.ledger.open("trades", "BTCUSDT", 10, 19, "stream", 1);
  const g2 = a.ledger.open("agg_trades", "ETHUSDT", 5, 5, "restart", 2);
  a.flush();
  a.ledger.set(g1, "repaired", 3, "from REST");
  a.ledger.resolve(g2, [{ from: 5, to: 5, state: "missing_at_source", detail: "not in REST" }], 4);
  a.journal.close(() => a.ledger.entries());
  const back = readJournal(dir, 100);
  expect(
    back.entries.map(({ id, state, from_id, to_id, cause, detail }) => ({
      id,
      state,
      from_id,
      to_id,
      cause,
      detail,
    })),
  ).toEqual([
    { id: 1, state: "repaired", from_id: 10, to_id: 19, cause: "stream", detail: "from REST" },
    { id: 2, state: "missing_at_source", from_id: 5, to_id: 5, cause: "restart", detail: "not in REST" },
  ]);
  // A second run continues the ids and counts what it restored.
  const b = journaled(dir);
  expect(b.ledger.idCounts.repaired).toBe(10);
  expect(b.ledger.open("trades", "BTCUSDT", 30, 30, "stream", 5).id).toBe(3);
});

test("a torn last line (a crash mid-write) is skipped, the rest comes back", () => {
  const dir = tempDir();
  const a = journaled(dir);
  a.ledger.open("trades", "BTCUSDT", 1, 2, "stream", 1);
  a.journal.close(() => a.ledger.entries());
  appendFileSync(join(dir, JOURNAL_FILE), '{"id":2,"table":"trades","sym');
  const back = readJournal(dir, 100);
  expect(back.entries.map((e) => e.id)).toEqual([1]);
  expect(back.skipped).toBe(1);
});

test("past 4 × capacity lines the file is rewritten with the newest entries, one line each", () => {
  const dir = tempDir();
  const a = journaled(dir, 5);
  for (let i = 0; i < 30; i++) {
    const g = a.ledger.open("trades", "BTCUSDT", i * 10, i * 10 + 1, "stream", i);
    a.ledger.set(g, "repaired", i + 1);
    a.flush();
  }
  const lines = readFileSync(join(dir, JOURNAL_FILE), "utf8").trimEnd().split("\n");
  expect(lines.length).toBeLessThanOrEqual(4 * 5);
  const back = readJournal(dir, 5);
  expect(back.entries.map((e) => e.id)).toEqual([26, 27, 28, 29, 30]);
  expect(back.entries.every((e) => e.state === "repaired")).toBe(true);
});
