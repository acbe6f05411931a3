import { describe, expect, test } from "bun:test";
import { strToU8, zipSync } from "fflate";
import { ArchiveError } from "./errors.ts";
import { inflateZip, zipEntry } from "./zip.ts";

const csv = strToU8(
  Array.from({ length: 3000 }, (_, i) => `${i},1.5,2,3,1735689600123,True,True`).join("\n"),
);
const good = zipSync({ "a.csv": csv });

async function inflate(zip: Uint8Array, name = "a.csv"): Promise<{ text: string; size: number }> {
  const parts: Uint8Array[] = [];
  const size = await inflateZip(zip, name, "a.zip", (c) => {
    parts.push(c.slice());
  });
  return { text: Buffer.concat(parts).toString(), size };
}

async function corruptReason(zip: Uint8Array, name = "a.csv"): Promise<string> {
  try {
    await inflate(zip, name);
  } catch (e) {
    expect(e).toBeInstanceOf(ArchiveError);
    expect((e as ArchiveError).kind).toBe("corrupt_zip");
    return (e as Error).message;
  }
  throw new Error("accepted a corrupt zip");
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
