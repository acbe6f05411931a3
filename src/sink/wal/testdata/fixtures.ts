/**
 * Test fixtures for the WAL and DLQ: FaultyFs (faulty-fs.ts, re-exported), temp folders, and frameFor(seq),
 * the deterministic frame the tests and the crash child write and check.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export { FaultyFs } from "../faulty-fs.ts";

/** A fresh folder under os.tmpdir(); call the returned function to remove it. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `k2-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic frame for a seq: varying length, some multi-byte characters. */
export function frameFor(seq: number): string {
  const pad = "x".repeat((seq * 37) % 300);
  const uni = seq % 5 === 0 ? "€é漢🙂" : "";
  return `{"stream":"btcusdt@trade","data":{"t":${seq},"p":"43123.45"${uni}}}${pad}`;
}
