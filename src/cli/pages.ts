/**
 * Following next_cursor for `k2 query`: page after page until the end or --max-rows, joined into
 * one output. CSV keeps the first page's header, NDJSON concatenates, JSON becomes one document
 * whose data holds every row. The last page asks for just the rows still wanted, so a stop at
 * --max-rows falls on a page boundary and its next_cursor goes on from exactly the next row.
 */

/** The formats whose pages can be joined as text. */
export const JOINABLE = new Set(["json", "csv", "ndjson"]);
/** Page size when --limit is not given: the server's largest. */
export const FOLLOW_PAGE_ROWS = 10_000;

interface JsonPage {
  data: unknown[];
  next_cursor: string | null;
  meta: Record<string, unknown>;
}

/** One page's rows as the text to print (and how many), for a joinable format. */
export function pageRows(format: string, body: string, first: boolean): { text: string; rows: number } {
  if (format === "csv") {
    const lines = body.split("\r\n").filter((l) => l !== "");
    const rows = lines.slice(1);
    const out = first ? lines : rows;
    return { text: out.length === 0 ? "" : `${out.join("\r\n")}\r\n`, rows: rows.length };
  }
  const lines = body.split("\n").filter((l) => l !== "");
  return { text: lines.length === 0 ? "" : `${lines.join("\n")}\n`, rows: lines.length };
}

/** JSON pages joined: every row in `data`, the last page's cursor, the first page's meta with the total count. */
export class JsonJoin {
  #data: unknown[] = [];
  #meta: Record<string, unknown> | undefined;
  #next: string | null = null;
  add(body: string): number {
    const page = JSON.parse(body) as JsonPage;
    for (const row of page.data) this.#data.push(row);
    this.#meta ??= page.meta;
    this.#next = page.next_cursor;
    return page.data.length;
  }
  text(): string {
    return `${JSON.stringify({ data: this.#data, next_cursor: this.#next, meta: { ...this.#meta, count: this.#data.length } })}\n`;
  }
}

/** `url` with cursor= and limit= set for the next page. */
export function pageUrl(url: string, cursor: string | null, limit: number): string {
  const u = new URL(url);
  if (cursor !== null) u.searchParams.set("cursor", cursor);
  u.searchParams.set("limit", String(limit));
  return u.toString();
}

export const moreLine = (cursor: string, maxRows?: number): string =>
  maxRows === undefined
    ? `k2 query: more rows follow: add --cursor ${cursor}`
    : `k2 query: stopped at --max-rows ${maxRows}; more rows follow: add --cursor ${cursor}`;
