/**
 * fetchVerifiedZip against a real HTTP server on 127.0.0.1 serving hand-made answers: what the
 * CHECKSUM file must look like, HTTP failures and their retryability. (Zips over the in-memory
 * bound, read from disk: fetch-disk.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { zipSync } from "fflate";
import { ArchiveError } from "./errors.ts";
import { fetchVerifiedZip, parseChecksumFile } from "./fetch.ts";
import { type ArchiveFile, archiveBaseName } from "./layout.ts";

const zip = zipSync({ "BTCUSDT-trades-2025-01-01.csv": new TextEncoder().encode("1,1,1,1,1,True,True\n") });
const sha = new Bun.CryptoHasher("sha256").update(zip).digest("hex");
const file = (date: string): ArchiveFile => ({ dataset: "trades", period: "daily", symbol: "BTCUSDT", date });
/** What the server answers for the CHECKSUM of each date (the zip is always `zip`). */
const sums: Record<string, string | number> = {
  "2025-01-01": `${sha}  ${archiveBaseName(file("2025-01-01"))}.zip\n`,
  "2025-01-02": `${sha}  BTCUSDT-trades-2025-01-01.zip\n`, // names another file
  "2025-01-03": "not a checksum\n",
  "2025-01-04": 500,
  "2025-01-05": 403,
};
let server: ReturnType<typeof Bun.serve>;
let root: string;

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      const date = /(\d{4}-\d{2}-\d{2})\.zip/.exec(path)?.[1] ?? "";
      const sum = sums[date];
      if (sum === undefined) return new Response("Not Found", { status: 404 });
      if (typeof sum === "number") return new Response("no", { status: sum });
      return path.endsWith(".CHECKSUM") ? new Response(sum) : new Response(zip);
    },
  });
  root = `http://127.0.0.1:${server.port}/`;
});
afterAll(() => server.stop(true));

async function failure(date: string): Promise<ArchiveError> {
  try {
    await fetchVerifiedZip(file(date), { root });
  } catch (e) {
    expect(e).toBeInstanceOf(ArchiveError);
    return e as ArchiveError;
  }
  throw new Error(`fetched ${date} without error`);
}

describe("verified download", () => {
  test("a good file: bytes and their SHA-256", async () => {
    const z = await fetchVerifiedZip(file("2025-01-01"), { root });
    expect(z.sha256).toBe(sha);
    expect(z.source).toBeInstanceOf(Uint8Array); // small: held in memory
    expect(Buffer.from(z.source as Uint8Array).equals(Buffer.from(zip))).toBe(true);
    expect(z.size).toBe(zip.length);
    expect(z.url).toBe(`${root}data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2025-01-01.zip`);
  });

  test("a CHECKSUM naming another file or not in sha256sum form is bad_checksum_file", async () => {
    expect((await failure("2025-01-02")).message).toMatch(
      /names 'BTCUSDT-trades-2025-01-01.zip', expected 'BTCUSDT-trades-2025-01-02.zip'/,
    );
    expect((await failure("2025-01-03")).kind).toBe("bad_checksum_file");
    expect(parseChecksumFile(`${sha.toUpperCase()} *a.zip`, "a.zip", "u")).toBe(sha); // binary-mode marker
  });

  test("HTTP errors: 404 not_found, 5xx retryable, 403 not", async () => {
    const missing = await failure("2025-01-06");
    expect([missing.kind, missing.retryable]).toEqual(["not_found", false]);
    const e500 = await failure("2025-01-04");
    expect([e500.kind, e500.retryable, e500.message]).toEqual([
      "http",
      true,
      expect.stringContaining("HTTP 500"),
    ]);
    const e403 = await failure("2025-01-05");
    expect([e403.kind, e403.retryable]).toEqual(["http", false]);
  });

  test("nothing listening: a retryable http error", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const url = `http://127.0.0.1:${dead.port}`;
    await dead.stop(true);
    const e = await fetchVerifiedZip(file("2025-01-01"), { root: url }).then(
      () => null,
      (x: unknown) => x as ArchiveError,
    );
    expect([e?.kind, e?.retryable]).toEqual(["http", true]);
  });
});
