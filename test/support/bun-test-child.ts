/** Run one test file in a child `bun test` (fixtures of the test tooling itself) and capture it. */
import { ROOT } from "./k2-process.ts";

export async function runTestFile(path: string, env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, "test", path], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out: stdout + stderr };
}
