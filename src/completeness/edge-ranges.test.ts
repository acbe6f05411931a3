import { expect, test } from "bun:test";
import type { ArchiveDay } from "./archive-day.ts";
import { edgeRanges } from "./certificate.ts";

const published = (first: number, last: number): ArchiveDay => ({
  status: "published",
  url: "http://127.0.0.1/x.zip",
  checksum: "c",
  rows: last - first + 1,
  first_id: first,
  last_id: last,
  sha256: "h",
});

test("the archive's ids before K2's first and after its last are missing, exactly", () => {
  expect(edgeRanges({ first_id: 10, last_id: 90 }, published(1, 100))).toEqual([
    [1, 9],
    [91, 100],
  ]);
  expect(edgeRanges({ first_id: 1, last_id: 100 }, published(1, 100))).toEqual([]);
  expect(edgeRanges({ first_id: 1, last_id: 99 }, published(1, 100))).toEqual([[100, 100]]);
});

test("nothing stored: the archive's whole range; no published archive: nothing to compare", () => {
  expect(edgeRanges({ first_id: null, last_id: null }, published(5, 8))).toEqual([[5, 8]]);
  expect(edgeRanges({ first_id: null, last_id: null }, { status: "not_published", url: "u" })).toEqual([]);
  expect(edgeRanges({ first_id: 1, last_id: 2 }, { status: "error", url: "u", message: "m" })).toEqual([]);
});

test("K2 storing more than the archive (a stale upload) is not a missing range", () => {
  expect(edgeRanges({ first_id: 1, last_id: 101 }, published(1, 100))).toEqual([]);
  expect(edgeRanges({ first_id: 0, last_id: 100 }, published(1, 100))).toEqual([]);
});
