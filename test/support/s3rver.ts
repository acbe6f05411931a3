/**
 * A real S3 server on loopback for tests: s3rver, run under Node by s3rver-runner.mjs because
 * under Bun its listings come back unsorted. `stop()` then `start()` again brings the same
 * server back on the same port and folder (a store outage and its recovery).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { S3Client } from "bun";

const RUNNER = join(import.meta.dir, "s3rver-runner.mjs");
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** s3rver's built-in account; any other key is refused with a signature error. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export class S3rverHarness {
  readonly dir: string;
  readonly bucket: string;
  #port = 0;
  #proc: Bun.Subprocess<"pipe", "pipe", "pipe"> | undefined;

  constructor(bucket = "k2-test") {
    this.bucket = bucket;
    this.dir = mkdtempSync(join(tmpdir(), "k2-s3rver-"));
  }

  get port(): number {
    return this.#port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Env that points K2 at this server. */
  env(prefix: string): Record<string, string> {
    return {
      K2_DATA_DIR: `s3://${this.bucket}/${prefix}`,
      K2_S3_ENDPOINT: this.endpoint,
      K2_S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    };
  }

  /** A client of this server's bucket (the test's independent view of the store). */
  client(): S3Client {
    return new S3Client({
      ...S3RVER_CREDENTIALS,
      endpoint: this.endpoint,
      bucket: this.bucket,
      region: "us-east-1",
    });
  }

  /** Start (again) on the same port once one was picked. */
  async start(): Promise<void> {
    if (this.#proc) throw new Error("s3rver already running");
    // s3rver's list continuation tokens use DES, which Node 20's OpenSSL 3 only has in its
    // legacy provider: without it every truncated (paged) listing is an InternalError.
    const proc = Bun.spawn(
      ["node", "--openssl-legacy-provider", RUNNER, this.dir, String(this.#port), this.bucket],
      {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    this.#proc = proc;
    const reader = proc.stdout.getReader();
    const decoder = new TextDecoder();
    let out = "";
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!out.includes("\n") && Date.now() < deadline) {
      const chunk = await Promise.race([
        reader.read(),
        Bun.sleep(deadline - Date.now()).then(() => undefined),
      ]);
      if (!chunk || chunk.done) break;
      out += decoder.decode(chunk.value, { stream: true });
    }
    reader.releaseLock();
    const m = /"port":(\d+)/.exec(out);
    if (!m) {
      proc.kill("SIGKILL");
      this.#proc = undefined;
      const err = await Promise.race([new Response(proc.stderr).text(), Bun.sleep(1000).then(() => "")]);
      throw new Error(`s3rver did not start within ${START_TIMEOUT_MS} ms: ${out} ${err}`);
    }
    this.#port = Number(m[1]);
  }

  /** Stop the server; its objects stay in `dir` for the next start(). */
  async stop(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    this.#proc = undefined;
    proc.kill("SIGTERM");
    const code = await Promise.race([proc.exited, Bun.sleep(STOP_TIMEOUT_MS).then(() => null)]);
    if (code === null) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }

  /** Every key under `prefix`, sorted, with sizes. */
  async keys(prefix: string): Promise<Map<string, number>> {
    const c = this.client();
    const out = new Map<string, number>();
    let token: string | undefined;
    do {
      const page = await c.list({ prefix, ...(token ? { continuationToken: token } : {}) });
      for (const o of page.contents ?? []) out.set(o.key, o.size ?? 0);
      token = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Copy every object under `prefix` into `dir`, keys minus the prefix as relative paths. */
  async download(prefix: string, dir: string): Promise<number> {
    const c = this.client();
    const keys = await this.keys(prefix);
    for (const key of keys.keys()) {
      const path = join(dir, key.slice(prefix.length));
      mkdirSync(dirname(path), { recursive: true });
      await Bun.write(path, await c.file(key).arrayBuffer());
    }
    return keys.size;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
