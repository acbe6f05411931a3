import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { emptyReport, readWal } from "./reader.ts";
import { frameFor, tempDir } from "./testdata/fixtures.ts";

const { dir: root, cleanup } = tempDir("walcrash");
afterAll(() => cleanup());
const CHILD = join(import.meta.dir, "testdata", "crash-child.ts");
const RUNS = { worker: 24, inline: 12 } as const;

// Each path in its own folder; the worker path (K2_WAL_WORKER) with more runs: it has more moving parts.
for (const path of ["worker", "inline"] as const) {
  test(
    `kill -9 at random moments (${path} path): every seq reported durable is recovered once, in order`,
    async () => {
      const dir = join(root, path);
      let rng = 0x2545f491; // xorshift32: reproducible kill delays
      const rand = () => {
        rng ^= rng << 13;
        rng ^= rng >>> 17;
        rng ^= rng << 5;
        return (rng >>> 0) / 2 ** 32;
      };
      let verified = 0; // records 1..verified are checked
      let maxDurable = 0;
      let runsWithProgress = 0;
      for (let run = 0; run < RUNS[path]; run++) {
        const child = Bun.spawn([process.execPath, CHILD, dir, path], { stdout: "pipe", stderr: "pipe" });
        const reader = child.stdout.getReader();
        const decoder = new TextDecoder();
        let out = "";
        if (run % 6 === 5) {
          await Bun.sleep(Math.floor(rand() * 40)); // now and then: during startup and recovery
        } else {
          // Wait until it is appending, then let it run a random while.
          for (let i = 0; i < 1000 && !out.includes("\n"); i++) {
            const chunk = await reader.read();
            if (chunk.done) break;
            out += decoder.decode(chunk.value, { stream: true });
          }
          await Bun.sleep(5 + Math.floor(rand() * 80));
        }
        child.kill("SIGKILL");
        expect(await child.exited).not.toBe(0);
        for (let i = 0; i < 100_000; i++) {
          const chunk = await reader.read();
          if (chunk.done) break;
          out += decoder.decode(chunk.value, { stream: true });
        }
        expect(await new Response(child.stderr).text()).toBe("");
        let durable = 0;
        for (const line of out.split("\n")) {
          const [word, num] = line.split(" ");
          if (word === "start") expect(Number(num)).toBe(verified + 1); // continues after recovered
          if (word === "durable") durable = Math.max(durable, Number(num));
        }
        if (durable > verified) runsWithProgress++;
        maxDurable = Math.max(maxDurable, durable);
        // Read-only replay of what this run added: contiguous seqs, exact payloads, nothing twice.
        const report = emptyReport();
        let expected = verified + 1;
        for (const r of readWal(dir, { afterSeq: verified, report })) {
          expect(r.seq).toBe(expected);
          if (r.payload !== frameFor(r.seq)) expect(r.payload).toBe(frameFor(r.seq));
          expected++;
        }
        for (const p of report.problems) expect(p.kind).toBe("torn_tail");
        verified = expected - 1;
        expect(verified).toBeGreaterThanOrEqual(maxDurable);
      }
      expect(runsWithProgress).toBeGreaterThanOrEqual(RUNS[path] / 2); // the claims were exercised
    },
    { timeout: 30_000 },
  );
}
