/**
 * Child process for crash.test.ts: opens the WAL in argv[2] (argv[3] "inline" for the inline
 * path, else the default worker path), appends frameFor(seq) forever and
 * prints "start <seq>" once, then "durable <seq>" whenever durableSeq advances. The test kills
 * it with SIGKILL at a random moment and checks that every seq printed as durable is recovered.
 */
import { WalWriter } from "../writer.ts";
import { frameFor } from "./fixtures.ts";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: crash-child.ts <wal dir>\n");
  process.exit(2);
}
const w = WalWriter.open({
  dir,
  segmentMaxBytes: 64 * 1024,
  bufferBytes: 16 * 1024,
  fsyncIntervalMs: 3,
  inline: process.argv[3] === "inline",
});
let expected = w.recovery.nextSeq;
process.stdout.write(`start ${expected}\n`);
let printed = w.durableSeq();
for (let loop = 0; loop < 1_000_000; loop++) {
  for (let k = 0; k < 20; k++) {
    const seq = w.append(frameFor(expected), Date.now() * 1000, 0);
    if (seq !== expected) {
      process.stderr.write(`append returned ${seq}, expected ${expected}\n`);
      process.exit(3);
    }
    expected++;
  }
  // Some loops leave records buffered across the sleep, so a kill can catch them unwritten.
  if (loop % 3 === 0) w.flush();
  await Bun.sleep(1);
  const d = w.durableSeq();
  if (d !== printed) {
    process.stdout.write(`durable ${d}\n`);
    printed = d;
  }
}
