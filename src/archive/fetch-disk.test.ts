/**
 * fetchVerifiedZip for a zip over the in-memory bound (set to 1 KiB here): written to a temp file
 * in the given folder as it streams in, hashed on the way, read back by inflateZip from the file,
 * and the file gone after `using` in every outcome. Real servers on 127.0.0.1: Bun.serve for
 * whole answers (with and without Content-Length), a raw TCP server for answers no HTTP library
 * would send (a body cut short, a Content-Length larger than any disk).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { zipSync } from "fflate";
import { ArchiveError } from "./errors.ts";
import { fetchVerifiedZip } from "./fetch.ts";
import { type ArchiveFile, archiveBaseName, archiveZipPath } from "./layout.ts";
import { inflateZip } from "./zip.ts";

const BOUND = 1024;
/** Lines that do not compress to nothing, so the zip is well over BOUND. */
const csv = Array.from(
  { length: 2000 },
  (_, i) => `${i},${(i * 7919) % 10007}.5,${i % 13},3,1735689600${i},True,True`,
)
  .join("\n")
  .concat("\n");
const file = (date: string): ArchiveFile => ({ dataset: "trades", period: "daily", symbol: "BTCUSDT", date });
/**
 * A fixed entry time: zipSync stamps the current time by default (2-second resolution), so the
 * zip and its CHECKSUM, built on separate requests, differed whenever a 2-second tick fell
 * between them (a checksum_mismatch seen once in CI).
 */
const ZIP_MTIME = new Date(Date.UTC(2025, 0, 1));
const zipOf = (date: string) =>
  zipSync({ [`${archiveBaseName(file(date))}.csv`]: new TextEncoder().encode(csv) }, { mtime: ZIP_MTIME });
const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const sumLine = (date: string, hex: string) => `${hex}  ${archiveBaseName(file(date))}.zip\n`;

const GOOD = "2025-01-01"; // Content-Length given
const CHUNKED = "2025-01-02"; // streamed without Content-Length
const BAD_SUM = "2025-01-03"; // CHECKSUM of other bytes
const SHORT = "2025-01-04"; // raw server: Content-Length larger than the body sent
const HUGE = "2025-01-05"; // raw server: Content-Length of 4 PiB
const zip = zipOf(GOOD);

let server: ReturnType<typeof Bun.serve>;
let raw: { readonly port: number; stop(closeActive?: boolean): void };
let root: string;
let rawRoot: string;
let tempDir: string;

beforeAll(() => {
  expect(zip.length).toBeGreaterThan(8 * BOUND);
  tempDir = mkdtempSync(join(tmpdir(), "k2-fetch-disk-"));
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      const date = /(\d{4}-\d{2}-\d{2})\.zip/.exec(path)?.[1] ?? "";
      const body = zipOf(date);
      if (path.endsWith(".CHECKSUM"))
        return new Response(sumLine(date, date === BAD_SUM ? sha(zipOf(GOOD).subarray(1)) : sha(body)));
      if (date !== CHUNKED) return new Response(body);
      // A stream of 1000-byte chunks: no Content-Length, so the bound is crossed mid-body.
      return new Response(
        new ReadableStream({
          start(c) {
            for (let off = 0; off < body.length; off += 1000) c.enqueue(body.slice(off, off + 1000));
            c.close();
          },
        }),
      );
    },
  });
  root = `http://127.0.0.1:${server.port}/`;
  raw = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(sock, data) {
        const path = /^GET (\S+)/.exec(data.toString())?.[1] ?? "";
        const date = /(\d{4}-\d{2}-\d{2})\.zip/.exec(path)?.[1] ?? "";
        const body = zipOf(date);
        const head = (len: number) =>
          `HTTP/1.1 200 OK\r\nContent-Length: ${len}\r\nConnection: close\r\n\r\n`;
        if (path.endsWith(".CHECKSUM")) {
          const text = sumLine(date, sha(body));
          sock.write(head(text.length) + text);
        } else if (date === SHORT) {
          sock.write(head(body.length));
          sock.write(body.subarray(0, body.length >> 1));
        } else sock.write(head(2 ** 52));
        sock.end();
      },
    },
  });
  rawRoot = `http://127.0.0.1:${raw.port}/`;
});
afterAll(() => {
  server.stop(true);
  raw.stop(true);
  rmSync(tempDir, { recursive: true, force: true });
});

async function csvOf(source: Parameters<typeof inflateZip>[0], date: string): Promise<string> {
  const parts: Uint8Array[] = [];
  await inflateZip(source, `${archiveBaseName(file(date))}.csv`, "z", (c) => {
    parts.push(c.slice());
  });
  return Buffer.concat(parts).toString();
}

async function refused(date: string, at = root): Promise<ArchiveError> {
  const e = await fetchVerifiedZip(file(date), { root: at, tempDir, inMemoryMaxBytes: BOUND }).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ArchiveError);
  return e as ArchiveError;
}

describe("a zip over the in-memory bound is read from a temp file", () => {
  for (const [name, date] of [
    ["with Content-Length", GOOD],
    ["without Content-Length (crossing the bound mid-body)", CHUNKED],
  ] as const)
    test(`${name}: the file holds the zip, inflates to the CSV, and is removed on dispose`, async () => {
      const want = zipOf(date);
      let path = "";
      {
        using z = await fetchVerifiedZip(file(date), { root, tempDir, inMemoryMaxBytes: BOUND });
        expect(z.source).not.toBeInstanceOf(Uint8Array);
        path = (z.source as { path: string }).path;
        expect(path.startsWith(tempDir)).toBe(true);
        expect(z.size).toBe(want.length);
        expect(z.sha256).toBe(sha(want));
        expect(Buffer.from(readFileSync(path)).equals(Buffer.from(want))).toBe(true);
        expect(await csvOf(z.source, date)).toBe(csv);
        expect(readdirSync(tempDir)).toEqual([path.slice(tempDir.length + 1)]);
      }
      expect(readdirSync(tempDir)).toEqual([]);
    });

  test("under the bound it stays in memory", async () => {
    using small = await fetchVerifiedZip(file(GOOD), { root, tempDir, inMemoryMaxBytes: zip.length });
    expect(small.source).toBeInstanceOf(Uint8Array);
    expect(readdirSync(tempDir)).toEqual([]);
  });

  test("a file:// root over the bound is read in place: no temp copy, and the mirror's file is kept", async () => {
    const mirror = mkdtempSync(join(tmpdir(), "k2-fetch-mirror-"));
    try {
      const zp = join(mirror, archiveZipPath(file(GOOD)));
      await Bun.write(zp, zip);
      writeFileSync(`${zp}.CHECKSUM`, sumLine(GOOD, sha(zip)));
      const at = `${pathToFileURL(mirror).href}/`;
      {
        using z = await fetchVerifiedZip(file(GOOD), { root: at, tempDir, inMemoryMaxBytes: BOUND });
        expect(z.source).toEqual({ path: zp });
        expect([z.size, z.sha256]).toEqual([zip.length, sha(zip)]);
        expect(readdirSync(tempDir)).toEqual([]);
        expect(await csvOf(z.source, GOOD)).toBe(csv);
      }
      expect(readFileSync(zp).equals(Buffer.from(zip))).toBe(true);
      // A mirror whose CHECKSUM disagrees: refused, and still the mirror's file is not touched.
      writeFileSync(`${zp}.CHECKSUM`, sumLine(GOOD, sha(zip.subarray(1))));
      const e = await fetchVerifiedZip(file(GOOD), { root: at, tempDir, inMemoryMaxBytes: BOUND }).catch(
        (x) => x,
      );
      expect((e as ArchiveError).kind).toBe("checksum_mismatch");
      expect(readFileSync(zp).equals(Buffer.from(zip))).toBe(true);
    } finally {
      rmSync(mirror, { recursive: true, force: true });
    }
    expect(readdirSync(tempDir)).toEqual([]);
  });

  test("a checksum mismatch is refused and its temp file removed", async () => {
    const e = await refused(BAD_SUM);
    expect(e.kind).toBe("checksum_mismatch");
    expect(readdirSync(tempDir)).toEqual([]);
  });

  test("a body cut short of its Content-Length is a retryable http error, temp file removed", async () => {
    const e = await refused(SHORT, rawRoot);
    expect([e.kind, e.retryable]).toEqual(["http", true]);
    expect(readdirSync(tempDir)).toEqual([]);
  });

  test("a zip larger than the folder's free space is refused before a byte is written", async () => {
    const e = await refused(HUGE, rawRoot);
    expect(e.kind).toBe("disk");
    expect(e.message).toMatch(new RegExp(`${2 ** 52} bytes to write to .*bytes free`));
    expect(readdirSync(tempDir)).toEqual([]);
  });
});
