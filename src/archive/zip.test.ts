import { describe, expect, test } from "bun:test";
import { strToU8, zipSync } from "fflate";
import { ArchiveError } from "./errors.ts";
import { inflateZip, zipEntry } from "./zip.ts";

const csv = strToU8(
  Array.from({ length: 3000 }, (_, i) => `${i},1.5,2,3,1735689600123,True,True`).join("\n"),
);
const good = zipSync({ "a.csv": csv });

function inflate(zip: Uint8Array, name = "a.csv"): { text: string; size: number } {
  const parts: Uint8Array[] = [];
  const size = inflateZip(zip, name, "a.zip", (c) => parts.push(c.slice()));
  return { text: Buffer.concat(parts).toString(), size };
}

function corruptReason(zip: Uint8Array, name = "a.csv"): string {
  try {
    inflate(zip, name);
  } catch (e) {
    expect(e).toBeInstanceOf(ArchiveError);
    expect((e as ArchiveError).kind).toBe("corrupt_zip");
    return (e as Error).message;
  }
  throw new Error("accepted a corrupt zip");
}

describe("zip: inflate one file, checked to the end", () => {
  test("a good zip yields its CSV exactly, with the directory's size and CRC-32", () => {
    expect(zipEntry(good, "a.zip")).toMatchObject({ name: "a.csv", size: csv.length });
    const r = inflate(good);
    expect(r.size).toBe(csv.length);
    expect(r.text).toBe(Buffer.from(csv).toString());
  });

  test("truncated anywhere (header, data, central directory) is corrupt_zip", () => {
    for (const cut of [10, 30, Math.floor(good.length / 2), good.length - 30, good.length - 1]) {
      expect(corruptReason(good.subarray(0, cut))).toMatch(/^a\.zip: not a readable zip/);
    }
  });

  test("a flipped byte in the compressed data fails inflate or the CRC-32", () => {
    const bad = good.slice();
    bad[60] = bad[60]! ^ 0xff;
    expect(corruptReason(bad)).toMatch(/not a readable zip/);
  });

  test("two files, the wrong name, or no zip at all are refused", () => {
    expect(corruptReason(zipSync({ "a.csv": csv, "b.csv": csv }))).toMatch(
      /expected one file inside, found 2/,
    );
    expect(corruptReason(good, "other.csv")).toMatch(/holds 'a\.csv', expected 'other\.csv'/);
    expect(corruptReason(strToU8("<html>not found</html>"))).toMatch(/no end-of-central-directory/);
  });

  test("an error thrown by the consumer passes through unchanged", () => {
    const boom = new ArchiveError("malformed_line", "line 1: bad");
    expect(() =>
      inflateZip(good, "a.csv", "a.zip", () => {
        throw boom;
      }),
    ).toThrow(boom);
  });
});
