/**
 * `K2_DATA_DIR=s3://bucket/prefix` turns the object store on: the Parquet files go to an
 * S3-compatible store under `<prefix>/<table>/date=…/symbol=…/<name>.parquet` (the local Hive
 * layout, unchanged), while the WAL, the dead-letter files and a local copy of the Parquet files
 * live in `K2_LOCAL_DIR`. The rest of K2 keeps reading `config.dataDir` as "the local folder".
 */
import type { Parsed } from "./schema.ts";

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface ObjectStoreConfig {
  /** As configured, normalised: `s3://bucket/prefix` (no trailing slash). */
  readonly url: string;
  readonly bucket: string;
  /** Key prefix without leading/trailing "/"; "" = the bucket's root. */
  readonly prefix: string;
  /** S3-compatible endpoint (MinIO, R2, s3rver); undefined = AWS S3. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Not enumerable, so logging or serialising the config can never print a secret. */
  readonly credentials: S3Credentials;
}

// S3 bucket naming rules (AWS "Bucket naming rules"): 3-63 chars of a-z 0-9 . -, starting and
// ending with a letter or digit. MinIO and R2 follow the same rules.
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// AWS "Object key naming guidelines": the characters safe everywhere; no "." or ".." segments.
const PREFIX_SEGMENT_RE = /^[A-Za-z0-9!_.*'()=-]+$/;
const URL_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

const EXPECTED_LOCATION =
  "a non-empty folder path or an s3://bucket/prefix URL (bucket: 3-63 of a-z 0-9 . -)";

/** `s3://bucket/prefix` → { bucket, prefix }; null when it is not a valid s3 URL. */
export function parseS3Url(raw: string): { bucket: string; prefix: string } | null {
  const m = /^s3:\/\/([^/?#]*)((?:\/[^?#]*)?)$/i.exec(raw);
  if (!m) return null;
  const bucket = m[1]!;
  if (!BUCKET_RE.test(bucket) || bucket.includes("..")) return null;
  const segments = m[2]!.split("/").filter((s) => s.length > 0);
  for (const s of segments) if (!PREFIX_SEGMENT_RE.test(s) || s === "." || s === "..") return null;
  return { bucket, prefix: segments.join("/") };
}

export function isS3Url(raw: string): boolean {
  return /^s3:/i.test(raw.trim());
}

/**
 * K2_DATA_DIR: a local folder, or an s3:// URL that must be valid. Any other URL scheme (a typo
 * like gs:// or http://) is refused instead of becoming a folder named "http:".
 */
export function dataLocation(): (raw: string) => Parsed<string> {
  return (raw) => {
    const v = raw.trim();
    if (isS3Url(v)) {
      const u = parseS3Url(v);
      if (!u) return { ok: false, expected: EXPECTED_LOCATION };
      return { ok: true, value: `s3://${u.bucket}${u.prefix ? `/${u.prefix}` : ""}` };
    }
    if (v.length === 0 || v.includes("\0") || URL_RE.test(v))
      return { ok: false, expected: EXPECTED_LOCATION };
    return { ok: true, value: v };
  };
}

/** An empty value (the default) or an http(s) URL. */
export function optionalHttpUrl(): (raw: string) => Parsed<string> {
  const expected = "empty (AWS) or an http:// or https:// URL";
  return (raw) => {
    const v = raw.trim();
    if (v === "") return { ok: true, value: "" };
    try {
      const u = new URL(v);
      if (u.protocol !== "http:" && u.protocol !== "https:") return { ok: false, expected };
      if (u.username || u.password) return { ok: false, expected: `${expected} without credentials` };
      return { ok: true, value: v.replace(/\/+$/, "") };
    } catch {
      return { ok: false, expected };
    }
  };
}

/** An AWS-style region name (us-east-1, eu-central-1; R2 uses "auto"). */
export function region(): (raw: string) => Parsed<string> {
  return (raw) => {
    const v = raw.trim();
    return /^[a-z0-9-]{1,64}$/.test(v)
      ? { ok: true, value: v }
      : { ok: false, expected: "a region name like us-east-1 or auto" };
  };
}

/**
 * Credentials from the variables Bun.s3 and the AWS tools read: S3_ACCESS_KEY_ID /
 * S3_SECRET_ACCESS_KEY (/ S3_SESSION_TOKEN), else the AWS_ ones. A missing one is reported by
 * name; values are never reported.
 */
export function credentialsFrom(
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; value: S3Credentials } | { ok: false; missing: string } {
  const get = (k: string) => (env[k] !== undefined && env[k] !== "" ? env[k] : undefined);
  const family = get("S3_ACCESS_KEY_ID") || get("S3_SECRET_ACCESS_KEY") ? "S3" : "AWS";
  const id = get(`${family}_ACCESS_KEY_ID`);
  const secret = get(`${family}_SECRET_ACCESS_KEY`);
  if (id === undefined) return { ok: false, missing: `${family}_ACCESS_KEY_ID` };
  if (secret === undefined) return { ok: false, missing: `${family}_SECRET_ACCESS_KEY` };
  const token = get(`${family}_SESSION_TOKEN`);
  return {
    ok: true,
    value: { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) },
  };
}

/** The store section of the config; credentials hidden from enumeration (see the field doc). */
export function objectStoreConfig(
  url: string,
  endpoint: string,
  region: string,
  credentials: S3Credentials,
): ObjectStoreConfig | undefined {
  const u = parseS3Url(url);
  if (!u) return undefined;
  const out = { url, bucket: u.bucket, prefix: u.prefix, endpoint: endpoint || undefined, region };
  Object.defineProperty(out, "credentials", { value: Object.freeze({ ...credentials }), enumerable: false });
  return Object.freeze(out) as ObjectStoreConfig;
}
