/**
 * Every configuration key K2 understands: name, unit, default, and how a value is parsed and
 * checked. This table is the single source for parsing, `k2 --help` and the README table.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

export interface KeyDef<T> {
  /** Environment name, e.g. K2_PORT. The flag is derived: --port. */
  readonly env: string;
  readonly unit: string;
  readonly description: string;
  readonly default: string;
  readonly parse: (raw: string) => Parsed<T>;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(expected: string): Parsed<T> => ({ ok: false, expected });

export function int(min: number, max: number): (raw: string) => Parsed<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) return bad(`an integer in ${min}..${max}`);
    const n = Number(raw.trim());
    return Number.isSafeInteger(n) && n >= min && n <= max ? ok(n) : bad(`an integer in ${min}..${max}`);
  };
}

/** 0 (off) or an integer in min..max: a period where a tiny non-zero value would be harmful. */
export function intOrOff(min: number, max: number): (raw: string) => Parsed<number> {
  const inRange = int(min, max);
  return (raw) => {
    if (raw.trim() === "0") return ok(0);
    const r = inRange(raw);
    return r.ok ? r : bad(`0 (off) or an integer in ${min}..${max}`);
  };
}

export function powerOfTwo(min: number, max: number): (raw: string) => Parsed<number> {
  const inRange = int(min, max);
  return (raw) => {
    const r = inRange(raw);
    const expected = `a power of two in ${min}..${max}`;
    if (!r.ok) return bad(expected);
    return (r.value & (r.value - 1)) === 0 ? r : bad(expected);
  };
}

export function oneOf<T extends string>(values: readonly T[]): (raw: string) => Parsed<T> {
  return (raw) => {
    const v = raw.trim() as T;
    return values.includes(v) ? ok(v) : bad(`one of ${values.join("|")}`);
  };
}

export function listOf<T extends string>(
  item: (s: string) => boolean,
  expected: string,
  normalise: (s: string) => string = (s) => s,
): (raw: string) => Parsed<readonly T[]> {
  return (raw) => {
    const items = raw
      .split(",")
      .map((s) => normalise(s.trim()))
      .filter((s) => s.length > 0);
    if (items.length === 0 || !items.every(item)) return bad(expected);
    return ok([...new Set(items)] as T[]);
  };
}

export function url(schemes: readonly string[]): (raw: string) => Parsed<string> {
  const expected = `a URL with scheme ${schemes.join(" or ")}`;
  return (raw) => {
    try {
      const u = new URL(raw.trim());
      return schemes.includes(u.protocol.replace(/:$/, ""))
        ? ok(raw.trim().replace(/\/+$/, ""))
        : bad(expected);
    } catch {
      return bad(expected);
    }
  };
}

export function host(): (raw: string) => Parsed<string> {
  // A hostname, IPv4 or IPv6 literal; resolution happens when the server binds.
  return (raw) => {
    const v = raw.trim();
    return /^[A-Za-z0-9.:-]{1,253}$/.test(v) ? ok(v) : bad("a hostname or IP address");
  };
}

export function text(): (raw: string) => Parsed<string> {
  return (raw) => (raw.trim().length > 0 ? ok(raw.trim()) : bad("a non-empty value"));
}

export function bool(): (raw: string) => Parsed<boolean> {
  return (raw) => {
    const v = raw.trim().toLowerCase();
    return v === "true" ? ok(true) : v === "false" ? ok(false) : bad("true or false");
  };
}

/**
 * A comma-separated list of secrets that may be empty. A bad entry is named by its position and
 * length, never shown: the message reaches logs (load.ts prints no secret value either).
 */
export function secretList(
  min: number,
  max: number,
  chars: RegExp,
  charsText: string,
): (raw: string) => Parsed<readonly string[]> {
  return (raw) => {
    const items = raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const [i, s] of items.entries()) {
      const at = `entry ${i + 1} of ${items.length}`;
      if (s.length < min || s.length > max)
        return bad(`${at} has ${s.length} characters; each key needs ${min} to ${max} of ${charsText}`);
      if (!chars.test(s))
        return bad(`${at} (${s.length} characters) holds a character other than ${charsText}`);
    }
    return ok([...new Set(items)]);
  };
}

/** A comma-separated list that may be empty; every item must match `re`. */
export function optionalList(re: RegExp, expected: string): (raw: string) => Parsed<readonly string[]> {
  return (raw) => {
    const items = raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    return items.every((s) => re.test(s)) ? ok([...new Set(items)]) : bad(expected);
  };
}
