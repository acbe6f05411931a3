/** Issue 16, defect 13: `k2 --help` lists every command; `k2 help` and `k2 --version` work. */
import { describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { ROOT } from "../support/k2-process.ts";

function k2(...args: string[]) {
  const r = Bun.spawnSync([process.execPath, "run", "src/main.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, K2_DATA_DIR: "/nonexistent/k2-help-test" },
    timeout: 15_000,
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("k2 help and version", () => {
  test("--help, -h and help print the same text naming query and dlq, exit 0", () => {
    const [long, short, word] = [k2("--help"), k2("-h"), k2("help")];
    for (const r of [long, short, word]) expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(short.stdout).toBe(long.stdout);
    expect(word.stdout).toBe(long.stdout);
    expect(long.stdout).toContain("k2 query <command>");
    expect(long.stdout).toContain("k2 dlq stats|export|replay");
    expect(long.stdout).toContain("k2 backfill --symbols");
    expect(long.stdout).toContain("--version");
    expect(long.stdout).toContain("K2_PORT");
  });

  test("--version prints the version, exit 0", () => {
    for (const flag of ["--version", "-V"]) {
      const r = k2(flag);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `k2 ${pkg.version}\n`, ""]);
    }
  });
});
