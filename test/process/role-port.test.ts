/**
 * A port another program holds, for the scale-out roles as for the single process
 * (ownership.test.ts): one line, exit 2, before the role opened anything (no WAL, no catalog, no
 * NATS connection; the data dir stays empty).
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runK2 } from "../support/k2-process.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

for (const role of ["recorder", "writer", "query"] as const) {
  test(`K2_ROLE=${role} on a port in use: one line, exit 2, nothing created in the data dir`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "k2-role-port-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not k2") });
    cleanups.push(() => other.stop(true));
    const r = await runK2([], {
      K2_ROLE: role,
      K2_NATS_URL: "nats://127.0.0.1:9",
      K2_DATA_DIR: dir,
      K2_PORT: String(other.port),
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `k2: port ${other.port} on 127.0.0.1 is in use by another program (K2_PORT)`,
    );
    expect(r.stdout).toBe("");
    expect(readdirSync(dir)).toEqual([]);
  });
}
