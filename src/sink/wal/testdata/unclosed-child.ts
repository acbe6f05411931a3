/**
 * Child process for worker-writer.test.ts: opens a worker-path WAL in argv[2], appends three
 * frames and then either ends without close() ("unclosed": the unref'd Worker must not keep the
 * process alive) or calls close() from a timer with nothing else pending ("closed": the
 * awaited reply alone must keep the process up; a top-level await would keep it up anyway).
 */
import { WorkerWalWriter } from "../worker-writer.ts";

const [dir, mode] = process.argv.slice(2);
if (!dir || (mode !== "unclosed" && mode !== "closed")) {
  process.stderr.write("usage: unclosed-child.ts <wal dir> unclosed|closed\n");
  process.exit(2);
}
const w = WorkerWalWriter.open({ dir, flushIntervalMs: 5 });
for (let i = 1; i <= 3; i++) w.append(`${mode}-${i}`, i, 0);
if (mode === "closed")
  setTimeout(() => void w.close().then((d) => process.stdout.write(`durable ${d}\n`)), 20);
else process.stdout.write(`appended ${w.status().appended}\n`);
