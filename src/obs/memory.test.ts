import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parseProcStatusMemory } from "./memory.ts";

describe("parseProcStatusMemory", () => {
  test("reads RssAnon and RssFile in kB as bytes", () => {
    const text =
      "Name:\tbun\nVmRSS:\t  3000 kB\nRssAnon:\t  2000 kB\nRssFile:\t   900 kB\nRssShmem:\t 100 kB\n";
    expect(parseProcStatusMemory(text)).toEqual({ rssAnonBytes: 2000 * 1024, rssFileBytes: 900 * 1024 });
  });
  test("a field the kernel does not report is NaN, not 0", () => {
    const m = parseProcStatusMemory("Name:\tbun\nVmRSS:\t3000 kB\n");
    expect(m.rssAnonBytes).toBeNaN();
    expect(m.rssFileBytes).toBeNaN();
  });
  test("this process's own status parses to plausible numbers on Linux", () => {
    if (process.platform !== "linux") return;
    const m = parseProcStatusMemory(readFileSync("/proc/self/status", "utf8"));
    const rss = process.memoryUsage.rss();
    // Anonymous + file-backed is (all but shared memory of) the RSS read a moment later.
    expect(m.rssAnonBytes).toBeGreaterThan(0);
    expect((m.rssAnonBytes + m.rssFileBytes) / rss).toBeGreaterThan(0.8);
    expect((m.rssAnonBytes + m.rssFileBytes) / rss).toBeLessThan(1.2);
  });
});
