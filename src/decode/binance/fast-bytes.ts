/**
 * The bytes form of fast.ts (UTF-8 frames from files and the WAL): the frame is copied into the
 * scratch buffer and decoded by the same code as string frames. Any byte ≥ 0x80 is outside every
 * accepted character set, so a frame it accepts is plain ASCII and needs no UTF-8 check.
 */
import type { RowColumns } from "../../model/index.ts";
import { decodeScratch, MIN_LENGTH } from "./fast.ts";
import { B, FAST_MAX_LENGTH, SCRATCH } from "./fast-scan.ts";
import type { SymbolLookup } from "./symbol-lookup.ts";

export function decodeFastBytes(
  f: Uint8Array,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
  mult: number,
): boolean {
  if (end < MIN_LENGTH || end > FAST_MAX_LENGTH || f.length !== end) return false;
  B.set(f);
  return decodeScratch(end, symbols, out, slot, recv, mult);
}

/**
 * The fast layouts only, for a frame at `src[start, end)` inside a bigger buffer (a socket's
 * chunk): one native copy into the scratch buffer, no view and no string. True when decoded into
 * row `slot` (times in µs: streams opened with timeUnit=MICROSECOND); false when the frame is not
 * one of them, with nothing reported (the slot may be partly written): decodeFrame decides then.
 */
export function decodeFastRange(
  src: Buffer,
  start: number,
  end: number,
  symbols: SymbolLookup,
  out: RowColumns,
  slot: number,
  recv: number,
): boolean {
  const n = end - start;
  if (n < MIN_LENGTH || n > FAST_MAX_LENGTH) return false;
  src.copy(SCRATCH, 0, start, end);
  return decodeScratch(n, symbols, out, slot, recv, 1);
}
