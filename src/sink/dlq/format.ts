/**
 * The dead-letter file format: NDJSON, one entry per line, so an operator can read it with `jq`
 * and replay it with readDlq. Files are `<file seq, 20 digits>.ndjson` in `<dataDir>/dlq/`.
 *
 *   {"v":1,"recv_time_us":1700000000123456,"status":3,"status_name":"truncated",
 *    "source":"binance-ws","enc":"text","frame":"{\"e\":\"trade\",..."}
 *
 * `enc` keeps the frame byte-exact whatever it was:
 * - "text":   the frame was a JS string; `frame` is that string (JSON escapes lone surrogates).
 * - "utf8":   the frame was bytes holding valid UTF-8; `frame` is the decoded text and
 *             re-encoding it gives the same bytes (a BOM is kept).
 * - "base64": the frame was bytes that are not valid UTF-8; `frame` is their base64.
 * `source` is omitted when the entry had none.
 */
export interface DlqEntry {
  readonly frame: string | Uint8Array;
  /** The decoder's status number and its name (the reason label in /metrics). */
  readonly status: number;
  readonly statusName: string;
  readonly recvTimeUs: number;
  readonly source?: string;
}

export const DLQ_FORMAT_VERSION = 1;
const FILE_RE = /^(\d{20})\.ndjson$/;

export function dlqFileName(fileSeq: number): string {
  return `${String(fileSeq).padStart(20, "0")}.ndjson`;
}

export function parseDlqFileName(name: string): number | null {
  const m = FILE_RE.exec(name);
  return m ? Number(m[1]) : null;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** One NDJSON line, newline included. */
export function encodeDlqLine(e: DlqEntry): string {
  let enc: "text" | "utf8" | "base64" = "text";
  let frame: string;
  if (typeof e.frame === "string") frame = e.frame;
  else {
    try {
      frame = strictUtf8.decode(e.frame);
      enc = "utf8";
    } catch {
      frame = Buffer.from(e.frame.buffer, e.frame.byteOffset, e.frame.byteLength).toString("base64");
      enc = "base64";
    }
  }
  const line = {
    v: DLQ_FORMAT_VERSION,
    recv_time_us: e.recvTimeUs,
    status: e.status,
    status_name: e.statusName,
    ...(e.source !== undefined ? { source: e.source } : {}),
    enc,
    frame,
  };
  return `${JSON.stringify(line)}\n`;
}

/** Parse one line (without its newline); a string result says what is wrong with it. */
export function decodeDlqLine(line: string): DlqEntry | string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return "not JSON";
  }
  if (o === null || typeof o !== "object") return "not an object";
  if (o.v !== DLQ_FORMAT_VERSION) return `unknown version ${String(o.v)}`;
  const { recv_time_us, status, status_name, source, enc, frame } = o;
  if (typeof recv_time_us !== "number" || typeof status !== "number" || typeof status_name !== "string")
    return "missing recv_time_us, status or status_name";
  if (source !== undefined && typeof source !== "string") return "source is not a string";
  if (typeof frame !== "string") return "frame is not a string";
  let f: string | Uint8Array;
  if (enc === "text") f = frame;
  else if (enc === "utf8") f = new TextEncoder().encode(frame);
  else if (enc === "base64") f = new Uint8Array(Buffer.from(frame, "base64"));
  else return `unknown enc ${String(enc)}`;
  return {
    frame: f,
    status,
    statusName: status_name,
    recvTimeUs: recv_time_us,
    ...(source !== undefined ? { source } : {}),
  };
}
