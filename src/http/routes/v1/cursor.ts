/** Opaque cursors: base64url of `v1|<parts>`; each page's cursor is tied to its query kind. */
import { HttpError } from "../../errors.ts";

const bad = (why: string) =>
  new HttpError(
    400,
    "invalid_cursor",
    `cursor: ${why}; pass next_cursor from a previous page unchanged`,
    "cursor",
  );

export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(["v1", ...parts].join("|")).toString("base64url");
}

export function decodeCursor(
  cursor: string | undefined,
  expect: readonly string[],
  payload = 1,
): string[] | undefined {
  if (cursor === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad("not a cursor");
  const parts = Buffer.from(cursor, "base64url").toString().split("|");
  if (parts[0] !== "v1" || parts.length !== 1 + expect.length + payload) throw bad("not a cursor");
  for (let i = 0; i < expect.length; i++)
    if (parts[i + 1] !== expect[i]) throw bad("it belongs to a different query");
  return parts.slice(expect.length + 1);
}

export function cursorInt(text: string | undefined): number {
  if (text === undefined || !/^-?\d{1,16}$/.test(text)) throw bad("not a cursor");
  return Number(text);
}

/** A cursor part that holds a non-negative bigint (e.g. a scaled price). */
export function cursorBigInt(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,19}$/.test(text)) throw bad("not a cursor");
  return BigInt(text);
}
