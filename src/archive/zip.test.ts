import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { zip64OfBlocks } from "../sim/archive-zip64.ts";
import { ArchiveError } from "./errors.ts";
import { inflateZip, type ZipSource, zipEntry } from "./zip.ts";

const csv = strToU8(
  Array.from({ length: 3000 }, (_, i) => `${i},1.5,2,3,1735689600123,True,True`).join("\n"),
);
const good = zipSync({ "a.csv": csv });

const dir = mkdtempSync(join(tmpdir(), "k2-zip-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function inflateFrom(zip: ZipSource, name: string): Promise<{ text: string; size: number }> {
  const parts: Uint8Array[] = [];
  const size = await inflateZip(zip, name, "a.zip", (c) => {
    parts.push(c.slice());
  });
  return { text: Buffer.concat(parts).toString(), size };
}

/** Read `zip` from memory and from a file on disk (zip-file.ts): both must give the same. */
async function both<T>(zip: Uint8Array, read: (z: ZipSource) => Promise<T>): Promise<T> {
  const path = join(dir, `${++files}.zip`);
  writeFileSync(path, zip);
  const [mem, disk] = await Promise.all([read(zip), read({ path })]);
  expect(disk).toEqual(mem);
  return mem;
}

async function inflate(zip: Uint8Array, name = "a.csv"): Promise<{ text: string; size: number }> {
  return both(zip, (z) => inflateFrom(z, name));
}

async function corruptReason(zip: Uint8Array, name = "a.csv"): Promise<string> {
  return both(zip, async (z) => {
    try {
      await inflateFrom(z, name);
    } catch (e) {
      expect(e).toBeInstanceOf(ArchiveError);
      expect((e as ArchiveError).kind).toBe("corrupt_zip");
      return (e as Error).message;
    }
    throw new Error("accepted a corrupt zip");
  });
}

describe("zip: inflate one file, checked to the end", () => {
  test("a good zip yields its CSV exactly, with the directory's size and CRC-32", async () => {
    expect(zipEntry(good, "a.zip")).toMatchObject({ name: "a.csv", size: csv.length, method: 8 });
    const r = await inflate(good);
    expect(r.size).toBe(csv.length);
    expect(r.text).toBe(Buffer.from(csv).toString());
  });

  test("a stored (uncompressed) entry reads too", async () => {
    const stored = zipSync({ "a.csv": [csv, { level: 0 }] });
    expect(zipEntry(stored, "a.zip").method).toBe(0);
    expect((await inflate(stored)).size).toBe(csv.length);
  });

  test("truncated anywhere (header, data, central directory) is corrupt_zip", async () => {
    for (const cut of [10, 30, Math.floor(good.length / 2), good.length - 30, good.length - 1]) {
      expect(await corruptReason(good.subarray(0, cut))).toMatch(/^a\.zip: not a readable zip/);
    }
  });

  test("a flipped byte in the compressed data fails inflate, the size or the CRC-32", async () => {
    const entry = zipEntry(good, "a.zip");
    for (const at of [entry.dataOffset + 5, entry.dataOffset + Math.floor(entry.compressedSize / 2)]) {
      const bad = good.slice();
      bad[at] = bad[at]! ^ 0xff;
      expect(await corruptReason(bad)).toMatch(/not a readable zip \((deflate data broken|inflate|CRC-32)/);
    }
  });

  test("intact deflate data whose CRC-32 differs from the directory's is refused", async () => {
    const cen = lastSig(good, 0x02014b50);
    const bad = patched(good, (dv) => dv.setUint32(cen + 16, dv.getUint32(cen + 16, true) ^ 1, true));
    expect(await corruptReason(bad)).toMatch(/CRC-32 of the inflated data differs from the directory/);
  });

  test("two files, the wrong name, or no zip at all are refused", async () => {
    expect(await corruptReason(zipSync({ "a.csv": csv, "b.csv": csv }))).toMatch(
      /expected one file inside, found 2/,
    );
    expect(await corruptReason(good, "other.csv")).toMatch(/holds 'a\.csv', expected 'other\.csv'/);
    expect(await corruptReason(strToU8("<html>not found</html>"))).toMatch(/no end-of-central-directory/);
  });

  test("an error thrown by the consumer passes through unchanged", async () => {
    const boom = new ArchiveError("malformed_line", "line 1: bad");
    await expect(
      inflateZip(good, "a.csv", "a.zip", () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });
});

/** Offset of the last record with signature `sig` in `zip`. */
function lastSig(zip: Uint8Array, sig: number): number {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, sig, true);
  const at = Buffer.from(zip).lastIndexOf(Buffer.from(b));
  if (at < 0) throw new Error(`no record 0x${sig.toString(16)}`);
  return at;
}

/** A copy of `zip` with `edit` applied to a DataView over it. */
function patched(zip: Uint8Array, edit: (dv: DataView) => void): Uint8Array {
  const c = zip.slice();
  edit(new DataView(c.buffer));
  return c;
}

describe("zip64: every size and offset in zip64 form, read exactly like a small zip", () => {
  // Three blocks: the writer deflates block by block, as the simulator's monthly files are.
  const text = Buffer.from(csv).toString();
  const z64 = zip64OfBlocks("a.csv", [text.slice(0, 1000), text.slice(1000, 50_000), text.slice(50_000)]);
  const ZIP64_EOCD = 0x06064b50;
  const LOCATOR = 0x07064b50;
  const CEN = 0x02014b50;

  test("the zip64 EOCD, locator, extra fields and 8-byte data descriptor are read; CSV exact", async () => {
    const e = zipEntry(z64, "a.zip");
    expect(e).toMatchObject({ name: "a.csv", size: csv.length, method: 8, zip64: true, descriptor: true });
    expect(e.descriptor64).toBe(true);
    // Every 32-bit size and offset in the directory says "see zip64".
    const cen = lastSig(z64, CEN);
    const dv = new DataView(z64.buffer, z64.byteOffset);
    expect([
      dv.getUint32(cen + 20, true),
      dv.getUint32(cen + 24, true),
      dv.getUint32(cen + 42, true),
    ]).toEqual([0xffffffff, 0xffffffff, 0xffffffff]);
    const r = await inflate(z64);
    expect(r.size).toBe(csv.length);
    expect(r.text).toBe(text);
  });

  test("a corrupt zip64 end record or locator is a clear corrupt_zip", async () => {
    const rec = lastSig(z64, ZIP64_EOCD);
    const loc = lastSig(z64, LOCATOR);
    const badSig = patched(z64, (dv) => dv.setUint32(rec, 0x06064b51, true));
    expect(await corruptReason(badSig)).toMatch(/zip64 end-of-central-directory record out of place/);
    const badLocator = patched(z64, (dv) => dv.setBigUint64(loc + 8, BigInt(rec + 7), true));
    expect(await corruptReason(badLocator)).toMatch(/zip64 end-of-central-directory record out of place/);
    const badCount = patched(z64, (dv) => {
      dv.setBigUint64(rec + 24, 2n, true);
      dv.setBigUint64(rec + 32, 2n, true);
    });
    expect(await corruptReason(badCount)).toMatch(/expected one file inside, found 2/);
    const badCd = patched(z64, (dv) => dv.setBigUint64(rec + 48, 3n, true));
    expect(await corruptReason(badCd)).toMatch(/central directory size and offset disagree/);
    const huge = patched(z64, (dv) => dv.setBigUint64(rec + 40, 1n << 60n, true));
    expect(await corruptReason(huge)).toMatch(/zip64 central directory size \d+ is out of range/);
    // An EOCD that defers to zip64 with the locator gone.
    const noLocator = patched(z64, (dv) => dv.setUint32(loc, 0, true));
    expect(await corruptReason(noLocator)).toMatch(/no zip64 locator precedes it/);
  });

  test("a zip64 extra field missing, short, or disagreeing with the data descriptor is refused", async () => {
    const cen = lastSig(z64, CEN);
    const extra = cen + 46 + "a.csv".length;
    const noExtra = patched(z64, (dv) => dv.setUint16(extra, 0x7075, true)); // another extra's id
    expect(await corruptReason(noExtra)).toMatch(
      /central directory entry marks size, compressed size, local header offset as zip64 but has no zip64 extra field/,
    );
    const short = patched(z64, (dv) => dv.setUint16(extra + 2, 16, true));
    expect(await corruptReason(short)).toMatch(
      /zip64 extra field of the central directory entry holds 16 bytes/,
    );
    // The directory's uncompressed size one byte more than the data: descriptor disagrees.
    const e = zipEntry(z64, "a.zip");
    const bigger = patched(z64, (dv) => dv.setBigUint64(extra + 4, BigInt(e.size + 1), true));
    expect(await corruptReason(bigger)).toMatch(/data descriptor and central directory disagree/);
  });

  test("an 8-byte data descriptor without a zip64 extra in the local header (Java's writer) reads too", async () => {
    // The local header's zip64 extra renamed to another id of the same length: offsets unchanged.
    const loc = 30 + "a.csv".length;
    const java = patched(z64, (dv) => dv.setUint16(loc, 0x7075, true));
    expect(zipEntry(java, "a.zip").descriptor64).toBe(false);
    expect((await inflate(java)).text).toBe(text);
  });

  test("a size past 4 GiB in the extra field is taken as given (the inflate then falls short)", async () => {
    const cen = lastSig(z64, CEN);
    const extra = cen + 46 + "a.csv".length;
    const desc = lastSig(z64, 0x08074b50);
    const five = 5 * 2 ** 30;
    const bigSize = patched(z64, (dv) => {
      dv.setBigUint64(extra + 4, BigInt(five), true);
      dv.setBigUint64(desc + 16, BigInt(five), true);
    });
    expect(zipEntry(bigSize, "a.zip").size).toBe(five);
    expect(await corruptReason(bigSize)).toMatch(
      new RegExp(`inflated ${csv.length} bytes, directory says ${five}`),
    );
  });

  test("a zip over twice the file reader's window: header and directory far apart, same CSV", async () => {
    let x = 1;
    const lines = Array.from({ length: 60_000 }, (_, i) => {
      x = (x * 48271) % 2147483647; // digits that do not compress away
      return `${i},${x},${x % 977},3,1735689600123,True,True`;
    });
    const big = zip64OfBlocks("a.csv", [
      lines.slice(0, 30_000).join("\n"),
      `\n${lines.slice(30_000).join("\n")}`,
    ]);
    expect(big.length).toBeGreaterThan(2 * (1 << 18));
    expect((await inflate(big)).text).toBe(lines.join("\n"));
    expect(await corruptReason(big.subarray(0, big.length - 30))).toMatch(/no end-of-central-directory/);
  });

  test("a 32-bit zip whose directory says 0xFFFFFFFF without a zip64 extra field is refused", async () => {
    const cen = lastSig(good, CEN);
    const bad = patched(good, (dv) => dv.setUint32(cen + 24, 0xffffffff, true));
    expect(await corruptReason(bad)).toMatch(/marks size as zip64 but has no zip64 extra field/);
  });
});
