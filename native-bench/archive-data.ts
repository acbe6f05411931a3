/**
 * Archive-shaped data for the archive benches (archive-read.ts, backfill.ts): Binance spot
 * `trades` CSV lines (no header) and one-file zips of them, generated at bench time.
 */
import { deflateRawSync } from "node:zlib";
import { archiveTimeFromUs, periodStartMs } from "../src/archive/index.ts";
import { formatDecimal } from "../src/model/index.ts";

/** One day of BTCUSDT-like trades: ids +1, price walking on a 0.01 tick, 8-decimal text. */
export function tradesCsv(date: string, firstId: number, n: number): string {
  const dayMs = periodStartMs(date);
  const parts: string[] = [];
  let price = 9_300_000_000_000n;
  let seed = firstId;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    price += BigInt((seed % 5) - 2) * 1_000_000n;
    const qty = BigInt(1000 + (seed % 2_000_000));
    const us = dayMs * 1000 + Math.floor((i * 86_400_000_000) / n) + (seed % 1000);
    parts.push(
      `${firstId + i},${formatDecimal(price)},${formatDecimal(qty)},${formatDecimal((price * qty) / 100_000_000n)},${archiveTimeFromUs(us, dayMs)},${seed % 2 === 0 ? "True" : "False"},True\n`,
    );
  }
  return parts.join("");
}

/**
 * A one-file zip (deflate, level 6 like the archive's) of `data` named `name`, written with
 * node:zlib: fflate's JavaScript deflate takes minutes for the bench's hundreds of MB.
 */
export function zipOne(name: string, data: Uint8Array): Uint8Array {
  const deflated = deflateRawSync(data, { level: 6 });
  const nameBytes = new TextEncoder().encode(name);
  const crc = Bun.hash.crc32(data) >>> 0;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42); // local header offset
  const cdOffset = 30 + nameBytes.length + deflated.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + nameBytes.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, nameBytes, deflated, central, nameBytes, end]);
}
