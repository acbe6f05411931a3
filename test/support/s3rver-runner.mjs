/**
 * Runs s3rver (a fake S3 server) under Node for tests: under Bun its bucket listings come back
 * unsorted, and S3 promises lexicographic order. Usage:
 *   node s3rver-runner.mjs <dir> <port, 0 = any free> <bucket>
 * Prints one JSON line {"port": N} once it listens. Exits on SIGTERM/SIGINT, or when stdin
 * closes, so a test runner that dies never leaves it behind.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const S3rver = require("s3rver");

const [dir, portArg, bucket] = process.argv.slice(2);
if (!dir || portArg === undefined || !bucket) {
  console.error("usage: node s3rver-runner.mjs <dir> <port> <bucket>");
  process.exit(2);
}

const server = new S3rver({
  address: "127.0.0.1",
  port: Number(portArg),
  directory: dir,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);

const stop = () => {
  server.close().finally(() => process.exit(0));
  // close() waits for keep-alive sockets; the test wants the port free now.
  setTimeout(() => process.exit(0), 500).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
