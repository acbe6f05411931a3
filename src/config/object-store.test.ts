import { describe, expect, test } from "bun:test";
import { ConfigError, describeConfig, loadConfig } from "./index.ts";
import { parseS3Url } from "./object-store.ts";

const CREDS = { S3_ACCESS_KEY_ID: "AKIDEXAMPLE", S3_SECRET_ACCESS_KEY: "very-secret-value-123" };

function cfg(env: Record<string, string>) {
  const r = loadConfig([], env);
  if (r.kind !== "config") throw new Error("expected a config");
  return r.config;
}

function rejection(env: Record<string, string>): ConfigError {
  try {
    loadConfig([], env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("K2_DATA_DIR=s3://…", () => {
  test("a folder keeps meaning a folder; no object store", () => {
    const c = cfg({ K2_DATA_DIR: "/var/k2", K2_LOCAL_DIR: "/ignored" });
    expect(c.dataDir).toBe("/var/k2");
    expect(c.objectStore).toBeUndefined();
  });

  test("an s3 URL turns the store on; dataDir becomes K2_LOCAL_DIR", () => {
    const c = cfg({
      ...CREDS,
      K2_DATA_DIR: "s3://market-data/k2/prod/",
      K2_LOCAL_DIR: "/var/cache/k2",
      K2_S3_ENDPOINT: "http://127.0.0.1:9000/",
      K2_S3_REGION: "auto",
    });
    expect(c.dataDir).toBe("/var/cache/k2");
    expect(c.objectStore).toMatchObject({
      url: "s3://market-data/k2/prod",
      bucket: "market-data",
      prefix: "k2/prod",
      endpoint: "http://127.0.0.1:9000",
      region: "auto",
    });
    expect(c.objectStore?.credentials.secretAccessKey).toBe(CREDS.S3_SECRET_ACCESS_KEY);
    // Defaults: local folder ./data, AWS (no endpoint), us-east-1, bucket root.
    const d = cfg({ ...CREDS, K2_DATA_DIR: "s3://market-data" });
    expect(d.dataDir).toBe("./data");
    expect(d.objectStore).toMatchObject({ prefix: "", endpoint: undefined, region: "us-east-1" });
  });

  test("AWS_ credentials are read when the S3_ pair is absent", () => {
    const c = cfg({ K2_DATA_DIR: "s3://bucket-a/x", AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "s" });
    expect(c.objectStore?.credentials.accessKeyId).toBe("id");
  });

  test("secrets never reach a log line or a serialised config", () => {
    const c = cfg({ ...CREDS, K2_DATA_DIR: "s3://bucket-a/x" });
    expect(JSON.stringify(c)).not.toContain(CREDS.S3_SECRET_ACCESS_KEY);
    expect(JSON.stringify(describeConfig(c))).not.toContain(CREDS.S3_SECRET_ACCESS_KEY);
    expect(describeConfig(c).K2_DATA_DIR).toBe("s3://bucket-a/x");
    expect(describeConfig(c).K2_LOCAL_DIR).toBe("./data");
  });

  const bad = [
    "s3://",
    "s3://ab",
    "s3://Upper-Case",
    "s3://bucket_x/p",
    "s3://-bucket/p",
    "s3://bucket/a/../b",
    "s3://bucket/a b",
    "s3://bucket?versionId=1",
    "s3://key:secret@bucket/p",
    "s3:bucket/p",
    "s3:/bucket/p",
    "gs://bucket/p",
    "https://bucket.s3.amazonaws.com/p",
  ];
  for (const value of bad) {
    test(`rejects K2_DATA_DIR=${JSON.stringify(value)} with one clear line`, () => {
      const e = rejection({ ...CREDS, K2_DATA_DIR: value });
      expect(e.key).toBe("K2_DATA_DIR");
      expect(e.message).toContain("s3://bucket/prefix");
      expect(e.message.split("\n")).toHaveLength(1);
    });
  }

  test("missing credentials are named, and no secret is echoed", () => {
    expect(rejection({ K2_DATA_DIR: "s3://bucket-a/x" }).key).toBe("AWS_ACCESS_KEY_ID");
    const e = rejection({ K2_DATA_DIR: "s3://bucket-a/x", S3_ACCESS_KEY_ID: "id-only" });
    expect(e.key).toBe("S3_SECRET_ACCESS_KEY");
    expect(e.message).toContain("K2_DATA_DIR is an s3:// URL");
    const s = rejection({ K2_DATA_DIR: "s3://bucket-a/x", AWS_SECRET_ACCESS_KEY: "hidden-secret" });
    expect(s.key).toBe("AWS_ACCESS_KEY_ID");
    expect(s.message).not.toContain("hidden-secret");
    // No store, no credentials needed.
    expect(cfg({ K2_DATA_DIR: "./d" }).objectStore).toBeUndefined();
  });

  test("endpoint and region are validated", () => {
    expect(rejection({ ...CREDS, K2_S3_ENDPOINT: "ftp://x" }).key).toBe("K2_S3_ENDPOINT");
    expect(rejection({ ...CREDS, K2_S3_ENDPOINT: "http://u:p@host:9000" }).key).toBe("K2_S3_ENDPOINT");
    expect(rejection({ ...CREDS, K2_S3_REGION: "US EAST" }).key).toBe("K2_S3_REGION");
  });

  test("parseS3Url", () => {
    expect(parseS3Url("s3://abc")).toEqual({ bucket: "abc", prefix: "" });
    expect(parseS3Url("s3://a.b-c/x//y/")).toEqual({ bucket: "a.b-c", prefix: "x/y" });
    expect(parseS3Url("S3://abc/p=1")).toEqual({ bucket: "abc", prefix: "p=1" });
    expect(parseS3Url("s3://a..b/x")).toBeNull();
  });
});
