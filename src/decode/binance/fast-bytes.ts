/**
 * The bytes form of fast.ts (UTF-8 frames from files and the WAL): the frame is copied into the
 * scratch buffer and decoded by the same code as string frames. Any byte ≥ 0x80 is outside every
 * accepted character set, so a frame it accepts is plain ASCII and needs no UTF-8 check.
 */
import type { RowColumns } from "../../model/index.ts";
import { decodeScratch, MIN_LENGTH } from "./fast.ts";
import { B, FAST_MAX_LENGTH } from "./fast-scan.ts";
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
