/**
 * What one /v1 input value may be, and the one sentence that says so when it is not. Every query
 * parameter and every batch-body field is read through these (params.ts names which ones a route
 * takes); a failure is an HttpError 400 whose message starts with the field's name.
 */
import { nearest } from "../../../config/near.ts";
import { HttpError } from "../../errors.ts";

export const invalid = (field: string, why: string): HttpError =>
  new HttpError(400, "invalid_parameter", `${field}: ${why}`, field);

export const didYouMean = (given: string, candidates: readonly string[]): string => {
  const n = nearest(given, candidates);
  return n === undefined ? "" : `; did you mean "${n}"?`;
};

const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;

/** Symbols are upper-case on Binance; `btcusdt` is accepted and normalised. */
export function symbolValue(text: string, field: string): string {
  const s = text.toUpperCase();
  if (!SYMBOL_RE.test(s))
    throw invalid(
      field,
      `expected a symbol of 2 to 20 letters and digits such as BTCUSDT, got ${JSON.stringify(text)}`,
    );
  return s;
}

export function oneOfValue<T extends string>(text: string, field: string, values: readonly T[]): T {
  if ((values as readonly string[]).includes(text)) return text as T;
  throw invalid(
    field,
    `expected one of ${values.join(", ")}, got ${JSON.stringify(text)}${didYouMean(text, values)}`,
  );
}

export function intValue(text: string, field: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (n >= min && n <= max) return n;
  throw invalid(field, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** `YYYY-MM-DD` checked against the calendar → ms at 00:00 UTC; `whole` is what the client sent. */
function calendarDateMs(ymd: string, field: string, whole: string): number {
  const [y, m, d] = ymd.split("-").map(Number) as [number, number, number];
  const not = `${JSON.stringify(whole)} is not a calendar date`;
  // Also keeps Date.UTC away from years 0-99, which it reads as 1900-1999.
  if (y < 1970) throw invalid(field, `${JSON.stringify(whole)} is before 1970, where epoch time starts`);
  if (m < 1 || m > 12) throw invalid(field, `${not} (months run from 01 to 12)`);
  const last = daysIn(y, m);
  if (d < 1 || d > last) throw invalid(field, `${not} (${MONTHS[m - 1]} ${y} has ${last} days)`);
  return Date.UTC(y, m - 1, d);
}

/** A UTC date `YYYY-MM-DD` (as given, after the calendar check). */
export function dateValue(text: string, field: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text))
    throw invalid(field, `expected a UTC date such as 2024-01-31, got ${JSON.stringify(text)}`);
  calendarDateMs(text, field, text);
  return text;
}

const ISO_RE =
  /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;
/** Epoch ms below this (1973-03-03) is almost surely seconds; at or above MAX_MS (year 5138), µs or ns. */
const MIN_MS = 100_000_000_000;
const MAX_MS = 100_000_000_000_000;
const TIME_FORMS =
  "a time such as 2024-01-02, 2024-01-02T03:04:05Z, 2024-01-02T05:04:05.123456+02:00 or epoch milliseconds";

/** A time → µs since epoch (UTC when no zone is given). Each field is range-checked, so nothing rolls over. */
export function timeValueUs(text: string, field: string): number {
  if (/^\d{1,19}$/.test(text)) {
    const n = Number(text);
    if (n === 0 || (n >= MIN_MS && n < MAX_MS)) return n * 1000;
    if (n < MIN_MS)
      throw invalid(
        field,
        `${text} looks like epoch seconds, but K2 takes epoch milliseconds (${text}000 for that second)`,
      );
    let ms = n;
    while (ms >= MAX_MS) ms = Math.floor(ms / 1000);
    throw invalid(
      field,
      `${text} looks like epoch microseconds or nanoseconds, but K2 takes epoch milliseconds (${ms})`,
    );
  }
  const m = ISO_RE.exec(text);
  if (!m) throw invalid(field, `expected ${TIME_FORMS}, got ${JSON.stringify(text)}`);
  const [, ymd, hh = "00", mi = "00", ss = "00", frac = "", , sign, zh = "00", zm = "00"] = m;
  const dayMs = calendarDateMs(ymd!, field, text);
  const not = `${JSON.stringify(text)} is not a time of day`;
  if (Number(hh) > 23) throw invalid(field, `${not} (hours run from 00 to 23)`);
  if (Number(mi) > 59 || Number(ss) > 59)
    throw invalid(field, `${not} (minutes and seconds run from 00 to 59)`);
  if (Number(zh) > 14 || Number(zm) > 59)
    throw invalid(
      field,
      `${JSON.stringify(text)} has no such UTC offset (offsets run from -14:00 to +14:00)`,
    );
  const offsetMs = (sign === "-" ? -1 : 1) * (Number(zh) * 3_600_000 + Number(zm) * 60_000);
  const ms = dayMs + Number(hh) * 3_600_000 + Number(mi) * 60_000 + Number(ss) * 1000 - offsetMs;
  return ms * 1000 + Number(frac.padEnd(6, "0"));
}

/** Replay pacing: 0 = as fast as storage is read, else a factor up to 10,000. */
export function speedValue(text: string, field: string): number {
  const n = /^\d{1,5}(\.\d{1,3})?$/.test(text) ? Number(text) : Number.NaN;
  if (n <= 10_000) return n;
  throw invalid(
    field,
    `expected 0 (as fast as storage is read) or a factor up to 10000 such as 2 or 0.5, got ${JSON.stringify(text)}`,
  );
}
