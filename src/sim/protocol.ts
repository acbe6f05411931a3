/**
 * Binance market-stream protocol: URL forms and live control messages
 * (web-socket-streams.md, "Live Subscribing/Unsubscribing to streams" and "Error Messages").
 * Pure functions: the server applies the outcome to its connection state.
 */
import { DEPTH_KINDS } from "./depth-frames.ts";
import { STREAM_KINDS, type StreamKind } from "./frames.ts";

export interface StreamRef {
  /** Stream name as the client wrote it, e.g. "btcusdt@aggTrade". */
  name: string;
  /** Upper-case symbol, e.g. "BTCUSDT". */
  symbol: string;
  kind: StreamKind;
}

const STREAM_RE = new RegExp(`^([a-z0-9]{2,20})@(${STREAM_KINDS.join("|")})$`);

/** Stream names use lower-case symbols; the kind is case-sensitive as on Binance ("aggTrade"). */
export function parseStreamName(name: string): StreamRef | null {
  const m = STREAM_RE.exec(name);
  if (!m) return null;
  return { name, symbol: m[1]!.toUpperCase(), kind: m[2] as StreamKind };
}

const DEPTH_KIND_SET: ReadonlySet<string> = new Set(DEPTH_KINDS);

/** Depth streams exist only in book mode: an error text for one asked without it, else null. */
function needsBooks(ref: StreamRef, books: boolean): string | null {
  if (books || !DEPTH_KIND_SET.has(ref.kind)) return null;
  return `Stream '${ref.name}' needs the simulator's book mode (option books: true, --books)`;
}

export interface ConnectRequest {
  streams: StreamRef[];
  combined: boolean;
  micros: boolean;
}

/** `/ws`, `/ws/<s>[/<s>...]`, `/stream`, `/stream?streams=a/b`, plus `timeUnit`. Error text or request. */
export function parseConnectUrl(url: URL, maxStreams: number, books = false): ConnectRequest | string {
  const tu = url.searchParams.get("timeUnit");
  let micros = false;
  if (tu !== null) {
    const u = tu.toUpperCase();
    if (u === "MICROSECOND") micros = true;
    else if (u !== "MILLISECOND") return `Invalid timeUnit '${tu}': expected MILLISECOND or MICROSECOND`;
  }
  let names: string[];
  let combined: boolean;
  if (url.pathname === "/ws" || url.pathname.startsWith("/ws/")) {
    names = url.pathname
      .slice(4)
      .split("/")
      .filter((s) => s.length > 0);
    combined = false;
  } else if (url.pathname === "/stream" || url.pathname === "/stream/") {
    names = (url.searchParams.get("streams") ?? "").split("/").filter((s) => s.length > 0);
    combined = true;
  } else {
    return `Unknown path '${url.pathname}': expected /ws, /ws/<stream> or /stream?streams=...`;
  }
  if (names.length > maxStreams) return `Too many streams: ${names.length} > ${maxStreams}`;
  const streams: StreamRef[] = [];
  for (const n of names) {
    const ref = parseStreamName(n);
    if (!ref) return `Invalid stream name '${n}'`;
    const noBook = needsBooks(ref, books);
    if (noBook) return noBook;
    streams.push(ref);
  }
  return { streams, combined, micros };
}

export interface ControlState {
  /** Subscribed stream names in subscription order. */
  readonly streams: ReadonlySet<string>;
  readonly combined: boolean;
}

export interface ControlOutcome {
  reply: string;
  subscribe?: StreamRef[];
  unsubscribe?: string[];
  combined?: boolean;
}

type Id = number | string | null;
const METHODS = ["SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY"];

function err(code: number, msg: string, id: Id): ControlOutcome {
  return { reply: JSON.stringify({ code, msg, id }) };
}

function ok(result: unknown, id: Id): string {
  return JSON.stringify({ result, id });
}

/** Binance accepts an unsigned integer or a short string as request id. */
function parseId(v: unknown): Id | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === "string" && v.length <= 64) return v;
  return undefined;
}

export function handleControl(
  text: string,
  state: ControlState,
  maxStreams: number,
  books = false,
): ControlOutcome {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (e) {
    return err(3, `Invalid JSON: ${(e as Error).message}`, null);
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
    return err(2, "Invalid request: expected a JSON object", null);
  }
  const m = msg as Record<string, unknown>;
  const id = parseId(m.id);
  if (id === undefined) return err(2, "Invalid request: request ID must be an unsigned integer", null);
  if (typeof m.method !== "string") return err(2, "Invalid request: missing field `method`", id);
  if (!METHODS.includes(m.method)) {
    return err(
      2,
      `Invalid request: unknown variant \`${m.method}\`, expected one of ${METHODS.join(", ")}`,
      id,
    );
  }
  const params = m.params;
  switch (m.method) {
    case "SUBSCRIBE":
    case "UNSUBSCRIBE": {
      if (!Array.isArray(params) || !params.every((p) => typeof p === "string")) {
        return err(2, "Invalid request: params must be an array of stream names", id);
      }
      if (m.method === "UNSUBSCRIBE") return { reply: ok(null, id), unsubscribe: params as string[] };
      const refs: StreamRef[] = [];
      for (const p of params as string[]) {
        const ref = parseStreamName(p);
        if (!ref) return err(2, `Invalid request: invalid stream name '${p}'`, id);
        const noBook = needsBooks(ref, books);
        if (noBook) return err(2, `Invalid request: ${noBook}`, id);
        refs.push(ref);
      }
      const after = new Set([...state.streams, ...refs.map((r) => r.name)]);
      if (after.size > maxStreams) {
        return err(2, `Invalid request: too many streams (max ${maxStreams} per connection)`, id);
      }
      return { reply: ok(null, id), subscribe: refs };
    }
    case "LIST_SUBSCRIPTIONS":
      return { reply: ok([...state.streams], id) };
    case "SET_PROPERTY": {
      if (!Array.isArray(params) || params.length !== 2) {
        return err(2, "Invalid request: params must be [property, value]", id);
      }
      if (typeof params[0] !== "string") return err(2, "Invalid request: property name must be a string", id);
      if (params[0] !== "combined") return err(0, "Unknown property", id);
      if (typeof params[1] !== "boolean") return err(1, "Invalid value type: expected Boolean", id);
      return { reply: ok(null, id), combined: params[1] };
    }
    default: {
      // GET_PROPERTY
      if (!Array.isArray(params) || params.length !== 1) {
        return err(2, "Invalid request: params must be [property]", id);
      }
      if (typeof params[0] !== "string") return err(2, "Invalid request: property name must be a string", id);
      if (params[0] !== "combined") return err(0, "Unknown property", id);
      return { reply: ok(state.combined, id) };
    }
  }
}
