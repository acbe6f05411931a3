/**
 * A throwaway self-signed certificate for 127.0.0.1 (openssl), for TLS servers in tests: a client
 * trusts it only when given it as its CA, which is how a test shows both sides of verification.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** Delete the folder holding both files. */
  remove(): void;
}

export function selfSignedCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), "k2-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  const gen = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
    ].concat(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyPath, "-out", certPath]),
    { stderr: "pipe" },
  );
  if (gen.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl could not make a test certificate: ${gen.stderr.toString()}`);
  }
  return {
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
    certPath,
    keyPath,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
