import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkSourceMarker, SOURCE_MARKER_FILE, sourceIdentity } from "./source-marker.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), "k2-marker-"));
  dirs.push(d);
  return d;
}
const binance = (url: string) => ({ source: "binance" as const, binanceWsUrl: url });
const sim = { source: "sim" as const, binanceWsUrl: "wss://data-stream.binance.vision" };

describe("source marker", () => {
  test("identity: the source kind and the venue's host name, never its port", () => {
    expect(sourceIdentity(binance("wss://data-stream.binance.vision"))).toEqual({
      source: "binance",
      host: "data-stream.binance.vision",
    });
    expect(sourceIdentity(binance("ws://127.0.0.1:41234"))).toEqual(
      sourceIdentity(binance("ws://127.0.0.1:5")),
    );
    expect(sourceIdentity(sim)).toEqual({ source: "sim", host: "embedded" });
  });

  test("the first start records the source; the same market on another port is accepted", () => {
    const d = dir();
    expect(checkSourceMarker(d, binance("ws://127.0.0.1:40001"))).toBeUndefined();
    expect(JSON.parse(readFileSync(join(d, SOURCE_MARKER_FILE), "utf8"))).toMatchObject({
      source: "binance",
      host: "127.0.0.1",
    });
    expect(checkSourceMarker(d, binance("ws://127.0.0.1:40002"))).toBeUndefined();
  });

  test("another source kind or another venue host is refused, naming both", () => {
    const d = dir();
    expect(checkSourceMarker(d, sim)).toBeUndefined();
    expect(checkSourceMarker(d, binance("wss://data-stream.binance.vision"))).toBe(
      `data dir ${d} holds data recorded from the embedded simulator (K2_SOURCE=sim), and this K2 records from binance at data-stream.binance.vision: one folder never mixes two markets; use another K2_DATA_DIR`,
    );
    const e = dir();
    expect(checkSourceMarker(e, binance("wss://stream.binance.com:9443"))).toBeUndefined();
    expect(checkSourceMarker(e, binance("wss://data-stream.binance.vision"))).toContain(
      "holds data recorded from binance at stream.binance.com",
    );
  });

  test("a marker K2 cannot read is reported, not overwritten", () => {
    const d = dir();
    writeFileSync(join(d, SOURCE_MARKER_FILE), "not json");
    expect(checkSourceMarker(d, sim)).toContain("is not a K2 source marker");
    expect(readFileSync(join(d, SOURCE_MARKER_FILE), "utf8")).toBe("not json");
  });
});
