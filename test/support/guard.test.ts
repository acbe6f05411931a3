/**
 * The resource guard, end to end: guard.fixture.ts (one clean test, one test per kind of leak,
 * one leak outside tests) runs under `bun test` in each mode, and the output must name each leak.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { runTestFile } from "./bun-test-child.ts";
import { parseGuardMode } from "./guard-core.ts";

const runFixture = (mode: string) => runTestFile("./test/support/guard.fixture.ts", { K2_TEST_GUARD: mode });

const KINDS = [
  /child process: pid \d+: sleep 30, created at test\/support\/guard\.fixture\.ts:\d+/,
  /server: server http:\/\/127\.0\.0\.1:\d+\/, created at test\/support\/guard\.fixture\.ts:\d+/,
  /listener: listener 127\.0\.0\.1:\d+, created at test\/support\/guard\.fixture\.ts:\d+/,
  /websocket: websocket client ws:\/\/127\.0\.0\.1:\d+\/, created at test\/support\/guard\.fixture\.ts:\d+/,
  /timer: setTimeout\(pendingTimeout, 60000 ms\), created at test\/support\/guard\.fixture\.ts:\d+/,
  /timer: setInterval\(pendingInterval, 60000 ms\), created at test\/support\/guard\.fixture\.ts:\d+/,
  /temp entry: temp entry fx-leak-\w+ /,
  /guard\.fixture\.ts \(outside tests\) left 1 resource\(s\) open:\n {2}- timer: setInterval\(fileScopeTick/,
];

function pidsOf(out: string): number[] {
  return [...out.matchAll(/child process: pid (\d+)/g)].map((m) => Number(m[1]));
}

/** Running, as opposed to gone or a zombie (killed, not yet reaped by whoever inherited it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

describe("resource guard", () => {
  test("K2_TEST_GUARD is fail (default), warn or off", () => {
    expect(parseGuardMode(undefined)).toBe("fail");
    expect(parseGuardMode("")).toBe("fail");
    expect(parseGuardMode("fail")).toBe("fail");
    expect(parseGuardMode("off")).toBe("off");
    expect(() => parseGuardMode("strict")).toThrow('K2_TEST_GUARD="strict": expected fail, warn or off');
  });

  test("fail mode fails each leaking test with what leaked and where; warn mode only reports", async () => {
    const [fail, warn] = await Promise.all([runFixture("fail"), runFixture("warn")]);

    expect(fail.code).not.toBe(0);
    expect(fail.out).toContain("(pass) clean: everything opened is closed");
    for (const name of ["a child process", "a server", "a listener", "a websocket client", "a temp folder"]) {
      expect(fail.out).toContain(`(fail) leaks ${name}`);
    }
    expect(fail.out).toContain("(fail) leaks a timer and an interval");
    for (const re of KINDS) expect(fail.out).toMatch(re);
    expect(fail.out).not.toMatch(/test #1 left/); // the clean test

    expect(warn.code).toBe(0);
    expect(warn.out).toMatch(/\b7 pass\n 0 fail\b/);
    for (const re of KINDS) expect(warn.out).toMatch(re);
    expect(warn.out).toContain("(K2_TEST_GUARD=warn: reported, not failed)");

    // Either way, nothing the run started outlives it.
    const pids = [...pidsOf(fail.out), ...pidsOf(warn.out)];
    expect(pids).toHaveLength(2);
    await Bun.sleep(50);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
