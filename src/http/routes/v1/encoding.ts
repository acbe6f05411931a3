/**
 * Gzip for the row routes when the client asks for it (Accept-Encoding). The body before
 * compression is exactly the identity body; responses that could be compressed carry
 * `Vary: Accept-Encoding` either way, so a shared cache keeps the two apart.
 */

/** Smaller bodies are sent as they are: the gzip header and the CPU cost more than they save. */
export const GZIP_MIN_BYTES = 1024;

/** True when Accept-Encoding names gzip (or x-gzip) without q=0. `*` is not taken as gzip. */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.split(";");
    const n = name.trim().toLowerCase();
    if (n !== "gzip" && n !== "x-gzip") continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/**
 * Level 1: the newest page changes with every accepted trade, so a page is compressed often;
 * level 1 costs a fraction of the default level for a JSON page a little larger.
 */
export function gzip(bytes: Uint8Array): Uint8Array {
  return Bun.gzipSync(bytes as Uint8Array<ArrayBuffer>, { level: 1 });
}

/** Adds Accept-Encoding to Vary, after whatever is there (Origin, from the CORS gate). */
export function varyOnEncoding(headers: Record<string, string | number>): void {
  const v = headers.vary;
  headers.vary = v ? `${v}, Accept-Encoding` : "Accept-Encoding";
}
