/**
 * One writer per shard across hosts (issue 14): the data-dir claim only covers one host, so a
 * second writer of the same shard on another folder (another host) meets the shard's lease in
 * JetStream. It refuses while the holder renews, takes over once the holder is dead, and starts at
 * once after a holder stopped cleanly.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClusterRig, startClusterRig } from "../../test/support/cluster-rig.ts";
import { runK2 } from "../../test/support/k2-process.ts";

let rig: ClusterRig | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const otherHost = () => {
  const d = mkdtempSync(join(tmpdir(), "k2-other-host-"));
  dirs.push(d);
  return { K2_DATA_DIR: d };
};

test("a second writer of a shard is refused while the first lives, and takes over once it is gone", async () => {
  rig = await startClusterRig(["BTCUSDT"]);
  const first = await rig.writer();
  const env = { ...rig.env, K2_ROLE: "writer", K2_PORT: "0", ...otherHost() };
  const refused = await runK2([], env);
  expect(refused.code).toBe(2);
  expect(refused.stderr.trim().split("\n")).toHaveLength(1);
  expect(refused.stderr).toContain(`writer-1-of-1 is held by another writer`);
  expect(refused.stderr).toContain(`pid ${first.proc.pid}`);
  // The holder dies without releasing: after one TTL the newcomer takes the lease.
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  const second = await rig.writer(otherHost());
  // Stopped cleanly, it releases the lease: a third writer starts without waiting a TTL.
  expect((await second.stop()).code).toBe(0);
  const t0 = performance.now();
  const third = await rig.writer(otherHost());
  expect(performance.now() - t0).toBeLessThan(4_000);
  expect((await third.stop()).code).toBe(0);
}, 90_000);
