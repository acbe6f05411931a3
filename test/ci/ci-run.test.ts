/**
 * `.ci/run` itself, with a stand-in `make` on PATH whose `make test` prints what bun test prints: the summary
 * line counts passes, failures and skips (bun prints no "skip" or "fail" line when there are
 * none), the SKIP lines of self-skipping tests are repeated, and the exit code is make's.
 */
import { afterEach, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/k2-process.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function ciRun(makeOutput: string, makeExit: number, clusterOutput = "") {
  const d = mkdtempSync(join(tmpdir(), "k2-ci-run-"));
  dirs.push(d);
  mkdirSync(join(d, ".ci"));
  mkdirSync(join(d, "bin"));
  copyFileSync(join(ROOT, ".ci/run"), join(d, ".ci/run"));
  // In this stand-in `make test` prints `makeOutput`, `make test-long` prints `clusterOutput`;
  // the other targets (installs) print nothing and succeed.
  writeFileSync(
    join(d, "bin/make"),
    `#!/bin/bash\nif [ "$1" = test-long ]; then cat <<'OUT'\n${clusterOutput}\nOUT\nexit 0; fi\n[ "$1" = test ] || exit 0\ncat <<'OUT'\n${makeOutput}\nOUT\nexit ${makeExit}\n`,
  );
  chmodSync(join(d, "bin/make"), 0o755);
  const proc = Bun.spawn(["bash", ".ci/run"], {
    cwd: d,
    env: { ...process.env, PATH: `${join(d, "bin")}:${process.env.PATH}` },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { out, code };
}

test("all pass, none skipped: exit 0 and a summary with 0 skipped", async () => {
  const r = await ciRun(" 12 pass\n 0 fail\nRan 12 tests across 3 files. [1.00s]", 0);
  expect(r.out).toContain("12 passed, 0 failed, 0 skipped");
  expect(r.out).toMatch(/ci: \d+ s, exit 0/);
  expect(r.code).toBe(0);
});

test("skips are counted and their SKIP lines shown", async () => {
  const r = await ciRun(
    "SKIP test/x.test.ts > disk full (1 test): needs root\n 11 pass\n 1 skip\n 0 fail\nRan 12 tests",
    0,
  );
  expect(r.out).toContain("11 passed, 0 failed, 1 skipped");
  expect(r.out).toContain("SKIP test/x.test.ts > disk full");
  expect(r.code).toBe(0);
});

test("a failing make test still prints the summary and passes its exit code on", async () => {
  const r = await ciRun(" 10 pass\n 2 fail\nRan 12 tests", 2);
  expect(r.out).toContain("10 passed, 2 failed, 0 skipped");
  expect(r.out).toMatch(/ci: \d+ s, exit 2/);
  expect(r.code).toBe(2);
});

test("the default suite and the cluster suite are summed in one summary", async () => {
  const r = await ciRun(" 12 pass\n 0 fail\nRan 12 tests", 0, " 3 pass\n 1 fail\nRan 4 tests");
  expect(r.out).toContain("15 passed, 1 failed, 0 skipped");
});
