/**
 * Fault switches: persistent settings (stall, pings, garbage, lifetime, REST misbehaviour) and
 * one-shot actions (drop, shutdown notice, refuse, skip/lose ids). The same JSON shape is accepted
 * by startSimulator({faults}), POST /admin/faults and Simulator.applyFaults().
 */
import { ARCHIVE_DATASETS, type ArchiveFile, archiveFileError } from "../archive/index.ts";
import { ARCHIVE_FAULTS, type ArchiveFault } from "./archive-http.ts";
import { STALE_EVENTS_MAX } from "./depth-feed.ts";
import type { Rng } from "./rng.ts";

export const GARBAGE_KINDS = ["malformed", "truncated", "oversized", "binary"] as const;
export type GarbageKind = (typeof GARBAGE_KINDS)[number];

export interface RestFault {
  /** 0 = answer normally; otherwise every REST call answers with this status (no weight used). */
  status: 0 | 429 | 418 | 500;
  /** Delay before every REST answer. */
  delayMs: number;
}

/** Book mode: how GET /api/v3/depth misbehaves (the other REST endpoints are unaffected). */
export interface DepthFault {
  /** 0 = answer normally; 429 or 418 = every depth request answers that (Retry-After, no weight used). */
  snapshotStatus: 0 | 429 | 418;
  /** Answer this much later, with the book as it is then (more diffs went out meanwhile). */
  snapshotDelayMs: number;
  /**
   * 0 = off. N: the snapshot is the book as it was before the last N 100 ms diff events (its
   * lastUpdateId is older than diffs already sent: Binance's rule says fetch again). At most
   * STALE_EVENTS_MAX (64).
   */
  snapshotStaleEvents: number;
}

export interface FaultSwitches {
  /**
   * The market stops: no trades, quotes or ids are generated (so ground truth stands still) until
   * switched off; the schedule then resumes where it stopped, without a burst. Tests use it to
   * bound a run exactly: start paused, connect, resume; pause, let K2 catch up, stop.
   */
  paused: boolean;
  /** Keep sockets open but send nothing at all (no data, no pings). */
  stall: boolean;
  /** Server sends its periodic ping frames. */
  sendPings: boolean;
  /**
   * Server answers client pings. Bun's uWebSockets always auto-pongs, so "false" pauses reading
   * the socket: client pings, pongs and control messages all go unread until switched back.
   */
  answerPings: boolean;
  /**
   * Probability, per real data frame, of sending one garbage frame IN ADDITION to it (never instead
   * of it), so every generated trade is still delivered and ground truth stays exact.
   */
  garbageRatio: number;
  garbageKinds: GarbageKind[];
  /** Size of an "oversized" garbage frame. */
  oversizedBytes: number;
  /** Binance cuts every connection after 24 h; shorten to exercise renewal. */
  maxLifetimeMs: number;
  rest: RestFault;
  depth: DepthFault;
}

export interface IdCountFault {
  count: number;
  /** Omitted: every symbol that exists when the action is applied. */
  symbol?: string;
}

export interface FaultActions {
  /** Close every connection: "close" sends a close frame (1001), "reset" drops TCP with no frame. */
  dropAll?: "close" | "reset";
  /** Send `{"e":"serverShutdown","E":..}` to every connection (stream `!serverShutdown` on combined). */
  serverShutdown?: boolean;
  /** Reject WebSocket upgrades with 503 for this long. */
  refuseForMs?: number;
  /** Withhold the next trades from sockets (whole aggTrades); REST still serves them. */
  skipTradeIds?: IdCountFault;
  /** Never generate the next trade ids at all: missing at the source, REST has nothing either. */
  loseTradeIds?: IdCountFault;
  /**
   * Book mode: drop the next `count` diff events of each depth stream speed (@depth@100ms and
   * @depth) on every socket: the event after a dropped one has U > previous u + 1.
   */
  skipDepthUpdates?: IdCountFault;
  /** The next closed 1m kline with trades reports `n` + delta (a count that disagrees with the trades). */
  klineCountOff?: { delta: number; symbol?: string };
  /** Set (or with "none" clear) one archive file's fault; see archive-http.ts. */
  archive?: { file: Omit<ArchiveFile, "period"> & { period?: ArchiveFile["period"] }; fault: ArchiveFault };
}

export type FaultPatch = Partial<Omit<FaultSwitches, "rest" | "depth">> & {
  rest?: Partial<RestFault>;
  depth?: Partial<DepthFault>;
} & FaultActions;

export function initialFaultSwitches(maxLifetimeMs: number): FaultSwitches {
  return {
    paused: false,
    stall: false,
    sendPings: true,
    answerPings: true,
    garbageRatio: 0,
    garbageKinds: [...GARBAGE_KINDS],
    oversizedBytes: 1024 * 1024,
    maxLifetimeMs,
    rest: { status: 0, delayMs: 0 },
    depth: { snapshotStatus: 0, snapshotDelayMs: 0, snapshotStaleEvents: 0 },
  };
}

const BOOL_KEYS = ["paused", "stall", "sendPings", "answerPings", "serverShutdown"] as const;
const KNOWN_KEYS = new Set([
  ...BOOL_KEYS,
  "garbageRatio",
  "garbageKinds",
  "oversizedBytes",
  "maxLifetimeMs",
  "rest",
  "depth",
  "skipDepthUpdates",
  "dropAll",
  "refuseForMs",
  "skipTradeIds",
  "loseTradeIds",
  "klineCountOff",
  "archive",
]);

function isNonNegInt(v: unknown, max = 2 ** 31): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
}

/** Returns a one-line reason when the patch is invalid, null when it can be applied. */
export function validateFaultPatch(p: unknown): string | null {
  if (typeof p !== "object" || p === null || Array.isArray(p)) return "expected a JSON object";
  const o = p as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN_KEYS.has(k)) return `unknown fault '${k}'`;
  for (const k of BOOL_KEYS) if (k in o && typeof o[k] !== "boolean") return `${k}: expected a boolean`;
  if ("garbageRatio" in o) {
    const r = o.garbageRatio;
    if (typeof r !== "number" || !(r >= 0 && r <= 1)) return "garbageRatio: expected a number in 0..1";
  }
  if ("garbageKinds" in o) {
    const k = o.garbageKinds;
    if (!Array.isArray(k) || k.length === 0 || !k.every((x) => GARBAGE_KINDS.includes(x))) {
      return `garbageKinds: expected a non-empty array of ${GARBAGE_KINDS.join("|")}`;
    }
  }
  if ("oversizedBytes" in o && !isNonNegInt(o.oversizedBytes, 64 * 1024 * 1024)) {
    return "oversizedBytes: expected an integer in 0..67108864";
  }
  if ("maxLifetimeMs" in o && !(isNonNegInt(o.maxLifetimeMs, 2 ** 40) && o.maxLifetimeMs >= 10)) {
    return "maxLifetimeMs: expected an integer >= 10";
  }
  if ("refuseForMs" in o && !isNonNegInt(o.refuseForMs)) return "refuseForMs: expected an integer >= 0";
  if ("dropAll" in o && o.dropAll !== "close" && o.dropAll !== "reset")
    return "dropAll: expected close|reset";
  for (const k of ["skipTradeIds", "loseTradeIds", "skipDepthUpdates"] as const) {
    if (!(k in o)) continue;
    const v = o[k] as Record<string, unknown> | null;
    if (typeof v !== "object" || v === null || !isNonNegInt(v.count, 1e9) || v.count < 1) {
      return `${k}: expected {count: integer >= 1, symbol?: string}`;
    }
    if ("symbol" in v && typeof v.symbol !== "string") return `${k}.symbol: expected a string`;
  }
  if ("klineCountOff" in o) {
    const v = o.klineCountOff as Record<string, unknown> | null;
    if (typeof v !== "object" || v === null || !Number.isInteger(v.delta) || v.delta === 0)
      return "klineCountOff: expected {delta: non-zero integer, symbol?: string}";
    if ("symbol" in v && typeof v.symbol !== "string") return "klineCountOff.symbol: expected a string";
  }
  if ("archive" in o) {
    const v = o.archive as { file?: Record<string, unknown>; fault?: unknown } | null;
    if (typeof v !== "object" || v === null || typeof v.file !== "object" || v.file === null)
      return "archive: expected {file: {dataset, symbol, date}, fault}";
    if (!ARCHIVE_FAULTS.includes(v.fault as ArchiveFault))
      return `archive.fault: expected ${ARCHIVE_FAULTS.join("|")}`;
    const f = v.file;
    if (!ARCHIVE_DATASETS.includes(f.dataset as never))
      return `archive.file.dataset: expected ${ARCHIVE_DATASETS.join("|")}`;
    if ("period" in f && f.period !== "daily" && f.period !== "monthly")
      return "archive.file.period: expected daily or monthly";
    const err = archiveFileError({
      dataset: f.dataset as ArchiveFile["dataset"],
      period: f.period === "monthly" ? "monthly" : "daily",
      symbol: String(f.symbol),
      date: String(f.date),
    });
    if (err) return `archive.file: ${err}`;
  }
  if ("rest" in o) {
    const r = o.rest as Record<string, unknown> | null;
    if (typeof r !== "object" || r === null) return "rest: expected {status?, delayMs?}";
    if ("status" in r && ![0, 429, 418, 500].includes(r.status as number)) {
      return "rest.status: expected 0|429|418|500";
    }
    if ("delayMs" in r && !isNonNegInt(r.delayMs, 600_000)) return "rest.delayMs: expected 0..600000";
  }
  if ("depth" in o) {
    const d = o.depth as Record<string, unknown> | null;
    if (typeof d !== "object" || d === null)
      return "depth: expected {snapshotStatus?, snapshotDelayMs?, snapshotStaleEvents?}";
    for (const k of Object.keys(d))
      if (!["snapshotStatus", "snapshotDelayMs", "snapshotStaleEvents"].includes(k))
        return `unknown fault 'depth.${k}'`;
    if ("snapshotStatus" in d && ![0, 429, 418].includes(d.snapshotStatus as number))
      return "depth.snapshotStatus: expected 0|429|418";
    if ("snapshotDelayMs" in d && !isNonNegInt(d.snapshotDelayMs, 600_000))
      return "depth.snapshotDelayMs: expected 0..600000";
    if ("snapshotStaleEvents" in d && !isNonNegInt(d.snapshotStaleEvents, STALE_EVENTS_MAX))
      return `depth.snapshotStaleEvents: expected 0..${STALE_EVENTS_MAX}`;
  }
  return null;
}

/** Copy the persistent part of a validated patch into the live switches. */
export function applySwitches(target: FaultSwitches, p: FaultPatch): void {
  if (p.paused !== undefined) target.paused = p.paused;
  if (p.stall !== undefined) target.stall = p.stall;
  if (p.sendPings !== undefined) target.sendPings = p.sendPings;
  if (p.answerPings !== undefined) target.answerPings = p.answerPings;
  if (p.garbageRatio !== undefined) target.garbageRatio = p.garbageRatio;
  if (p.garbageKinds !== undefined) target.garbageKinds = [...p.garbageKinds];
  if (p.oversizedBytes !== undefined) target.oversizedBytes = p.oversizedBytes;
  if (p.maxLifetimeMs !== undefined) target.maxLifetimeMs = p.maxLifetimeMs;
  if (p.rest) target.rest = { ...target.rest, ...p.rest };
  if (p.depth) target.depth = { ...target.depth, ...p.depth };
}

/**
 * One garbage frame derived from a real one. Strings are sent as text frames, Uint8Array as binary.
 * Truncated keeps a prefix (a frame cut mid-JSON); malformed breaks the syntax but stays valid UTF-8;
 * oversized is a syntactically valid JSON object far beyond any real event's size.
 */
export function garbageFrame(
  kind: GarbageKind,
  real: string,
  rng: Rng,
  oversizedBytes: number,
): string | Uint8Array {
  switch (kind) {
    case "truncated":
      return real.slice(0, Math.max(1, Math.floor(real.length * rng.next())));
    case "malformed":
      return `${real.slice(0, -1)},}}garbage`;
    case "oversized":
      return `{"e":"oversized","pad":"${"x".repeat(Math.max(0, oversizedBytes - 24))}"}`;
    case "binary": {
      const out = new Uint8Array(16 + rng.int(48));
      for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
      return out;
    }
  }
}
