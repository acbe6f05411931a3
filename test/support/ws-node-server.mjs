/**
 * A WebSocket server from another implementation than Bun's, for K2's own client to meet: the
 * `ws` package under Node, over TLS. Usage:
 *   node ws-node-server.mjs <cert.pem> <key.pem> <frames>
 * Prints {"port": N} once it listens. To each client: `frames` text frames (a trade-like one per
 * id, every 500th one 70,000 bytes so the 64-bit length form is used too), a ping with a payload
 * every 20 ms while it sends, then a close with 1001 "going away" after the last frame. When the
 * client's close answer arrives it prints {"pongs", "pongsMatching", "closeCode", "sent"} and
 * exits. permessage-deflate is enabled, so a client that offered it would get it. Exits when
 * stdin closes, so a test runner that dies never leaves it behind.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { WebSocketServer } = require("ws");

const [certPath, keyPath, framesArg] = process.argv.slice(2);
const FRAMES = Number(framesArg);
const https = createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath) });
const wss = new WebSocketServer({ server: https, perMessageDeflate: true });

/** Frame `i`: what the test rebuilds to compare (same function in raw-client-interop.test.ts). */
const frame = (i) =>
  i % 500 === 499
    ? `{"stream":"big","data":"${"x".repeat(70_000)}","i":${i}}`
    : `{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":${i},"p":"43000.${i % 100}"}}`;

wss.on("connection", (ws) => {
  let pongs = 0;
  let pongsMatching = 0;
  let pinged = 0;
  ws.on("pong", (data) => {
    pongs++;
    if (data.toString() === `hb-${pongs}`) pongsMatching++;
  });
  const ping = setInterval(() => ws.ping(`hb-${++pinged}`), 20);
  let i = 0;
  const sendSome = () => {
    // In slices, so pings interleave with the frames and the client answers them mid-stream.
    for (const end = Math.min(FRAMES, i + 200); i < end; i++) ws.send(frame(i));
    if (i < FRAMES) setTimeout(sendSome, 5);
    else
      setTimeout(() => {
        clearInterval(ping);
        ws.close(1001, "going away");
      }, 60);
  };
  sendSome();
  ws.on("close", (code) => {
    clearInterval(ping);
    process.stdout.write(`${JSON.stringify({ pongs, pongsMatching, pinged, closeCode: code, sent: i })}\n`);
    process.exit(0);
  });
});

https.listen(0, "127.0.0.1", () =>
  process.stdout.write(`${JSON.stringify({ port: https.address().port })}\n`),
);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
