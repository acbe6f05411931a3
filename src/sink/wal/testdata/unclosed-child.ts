/**
 * Child process for worker-writer.test.ts: opens a worker-path WAL in argv[2], appends three
 * frames and then either ends without close() ("unclosed": the unref'd Worker must not keep the
 * process alive) or awaits close() at top level ("closed": the pending reply must keep it up).
 */
import { WorkerWalWriter } from "../worker-writer.ts";

const [dir, mode] = process.argv.slice(2);
if (!dir || (mode !== "unclosed" && mode !== "closed")) {
  process.stderr.write("usage: unclosed-child.ts <wal dir> unclosed|closed\n");
  process.exit(2);
}
const w = WorkerWalWriter.open({ dir, flushIntervalMs: 5 });
for (let i = 1; i <= 3; i++) w.append(`${mode}-${i}`, i, 0);
if (mode === "closed") process.stdout.write(`durable ${await w.close()}\n`);
else process.stdout.write(`appended ${w.status().appended}\n`);
