/**
 * Which market a data dir holds: recorded in `<dataDir>/k2-source.json` at the first start and
 * checked at every start after, so real Binance rows and a simulator's invented ones never share a
 * folder (a `make demo` folder reopened by `make start` would ask Binance to repair gaps of ids
 * that never existed there and mix fake prices into real tables).
 * The identity is the source kind and the venue's host name, not its port: harnesses restart K2
 * against one standalone simulator on a new ephemeral port, and that is still the same market.
 * With an s3:// data dir `dataDir` is K2_LOCAL_DIR, so the marker lives beside the WAL.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "./keys.ts";

export const SOURCE_MARKER_FILE = "k2-source.json";

export interface SourceIdentity {
  readonly source: Config["source"];
  /** The WebSocket venue's host name (no port); "embedded" for K2_SOURCE=sim. */
  readonly host: string;
}

export function sourceIdentity(config: Pick<Config, "source" | "binanceWsUrl">): SourceIdentity {
  if (config.source === "sim") return { source: "sim", host: "embedded" };
  return { source: config.source, host: new URL(config.binanceWsUrl).hostname };
}

const describe = (id: SourceIdentity): string =>
  id.source === "sim" ? "the embedded simulator (K2_SOURCE=sim)" : `${id.source} at ${id.host}`;

function read(file: string): SourceIdentity | string {
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as Partial<SourceIdentity>;
    if (typeof v.source === "string" && typeof v.host === "string") return { source: v.source, host: v.host };
  } catch {
    // Unreadable or not JSON: reported below, never overwritten.
  }
  return `${file} is not a K2 source marker (expected JSON with "source" and "host")`;
}

/**
 * Check the data dir's marker against `config`; write it when the folder has none (a new folder,
 * or one from a K2 that predates the marker: its first start with this K2 records the source).
 * Returns the one-line refusal, or undefined when this K2 may use the folder.
 */
export function checkSourceMarker(
  dataDir: string,
  config: Pick<Config, "source" | "binanceWsUrl">,
): string | undefined {
  const want = sourceIdentity(config);
  const file = join(dataDir, SOURCE_MARKER_FILE);
  if (existsSync(file)) {
    const have = read(file);
    if (typeof have === "string") return `data dir ${dataDir}: ${have}; move it away if the folder is K2's`;
    if (have.source === want.source && have.host === want.host) return undefined;
    return `data dir ${dataDir} holds data recorded from ${describe(have)}, and this K2 records from ${describe(want)}: one folder never mixes two markets; use another K2_DATA_DIR${config.source === "sim" ? " (make demo uses ./data-demo)" : ""}`;
  }
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ ...want, recorded_at: new Date().toISOString() })}\n`);
  renameSync(tmp, file);
  return undefined;
}
