/**
 * K2's own WebSocket client (K2_WS_CLIENT=raw, the default; src/source/ws/) on its own against
 * real servers on loopback: the handshake's refusals, invalid UTF-8, TLS, and a server of another
 * implementation (ws under Node). Through the source it meets every simulator fault in
 * test/source/faults.test.ts (the harness takes K2's default client).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { RawWebSocket, utf8Text } from "../../src/source/ws/client.ts";
import { WsClose } from "../../src/source/ws/frames.ts";
import { selfSignedCert } from "../support/tls-cert.ts";
import { waitUntil } from "../support/wait.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A RawWebSocket whose events are recorded. */
function raw(url: string, ca?: string) {
  const got = {
    open: false,
    texts: [] as string[],
    error: "",
    close: undefined as [number, string] | undefined,
  };
  const ws = new RawWebSocket(
    url,
    {
      onOpen: () => {
        got.open = true;
      },
      onText: (b, start, end) => got.texts.push(utf8Text(b, start, end)),
      onBinary: () => {},
      onPing: () => {},
      onError: (c) => {
        got.error = c;
      },
      onClose: (code, reason) => {
        got.close = [code, reason];
      },
    },
    { maxMessageBytes: 1 << 20, ...(ca ? { ca } : {}) },
  );
  return { ws, got };
}

/**
 * A server's answer to the upgrade request `req` (its Sec-WebSocket-Accept computed from the key),
 * or null for a packet that is not the request (the client's later frames).
 */
function upgradeAnswer(req: string): string | null {
  const key = /Sec-WebSocket-Key: (\S+)/.exec(req)?.[1];
  if (!key) return null;
  const accept = new Bun.CryptoHasher("sha1")
    .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest("base64");
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

describe("the client alone", () => {
  test("refusals say why: connection refused, an HTTP status instead of 101, a wrong accept key", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    const refused = raw(`ws://127.0.0.1:${port}/`);
    await waitUntil(() => refused.got.close !== undefined, 3000, "refused");
    expect(refused.got.error).toContain("ECONNREFUSED");
    expect(refused.got.open).toBe(false);

    const http = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response("no", { status: 403 }),
    });
    cleanups.push(() => http.stop(true));
    const forbidden = raw(`ws://127.0.0.1:${http.port}/stream`);
    await waitUntil(() => forbidden.got.close !== undefined, 3000, "403");
    expect(forbidden.got.error).toBe("HTTP 403 instead of the WebSocket upgrade (101)");

    const liar = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(s) {
          s.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
          s.write("Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n");
        },
      },
    });
    cleanups.push(() => liar.stop(true));
    const wrong = raw(`ws://127.0.0.1:${liar.port}/`);
    await waitUntil(() => wrong.got.close !== undefined, 3000, "wrong accept");
    expect(wrong.got.error).toContain("Sec-WebSocket-Accept");
    expect(wrong.got.open).toBe(false);
  });

  test("invalid UTF-8 in a text frame fails the connection with 1007; valid U+FFFD does not", async () => {
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(s, d) {
          // The first packet is the upgrade request; later ones (the client's close) get no answer.
          const head = upgradeAnswer(d.toString());
          if (head === null) return;
          s.write(head);
          const good = Buffer.from("ok \uFFFD", "utf8");
          s.write(
            Buffer.concat([Buffer.from([0x81, good.length]), good, Buffer.from([0x81, 2, 0x61, 0xff])]),
          );
        },
      },
    });
    cleanups.push(() => server.stop(true));
    const c = raw(`ws://127.0.0.1:${server.port}/`);
    await waitUntil(() => c.got.close !== undefined, 3000, "close");
    expect(c.got.texts).toEqual(["ok \uFFFD"]);
    expect(c.got.close).toEqual([WsClose.invalidData, "a text frame that is not UTF-8"]);
  });

  test("wss://: the TLS handshake with the server's certificate, then frames", async () => {
    const tls = selfSignedCert();
    cleanups.push(() => tls.remove());
    const { cert } = tls;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert, key: tls.key },
      fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("upgrade", { status: 400 })),
      websocket: {
        open(ws) {
          for (let i = 0; i < 100; i++) ws.send(`{"n":${i}}`);
        },
        message() {},
      },
    });
    cleanups.push(() => server.stop(true));
    const c = raw(`wss://127.0.0.1:${server.port}/`, cert);
    await waitUntil(() => c.got.texts.length === 100, 5000, "100 frames over TLS", {
      detail: () => JSON.stringify(c.got),
    });
    expect(c.got.texts[99]).toBe('{"n":99}');
    c.ws.close(1000, "done");
    expect(c.got.close).toEqual([1000, "done"]);
    // Without the certificate trusted, the handshake is refused and says why.
    const untrusted = raw(`wss://127.0.0.1:${server.port}/`);
    await waitUntil(() => untrusted.got.close !== undefined, 5000, "untrusted");
    expect(untrusted.got.open).toBe(false);
    expect(untrusted.got.error).toMatch(/CERT|certificate|SELF_SIGNED/i);
  });

  test("another implementation's server (ws under Node, TLS): frames in order, pings answered, its close answered", async () => {
    const tls = selfSignedCert();
    cleanups.push(() => tls.remove());
    const FRAMES = 3000;
    const server = Bun.spawn(
      [
        "node",
        join(import.meta.dir, "../support/ws-node-server.mjs"),
        tls.certPath,
        tls.keyPath,
        String(FRAMES),
      ],
      {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    cleanups.push(() => server.kill());
    const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    const nextLine = async (what: string) => {
      while (!out.includes("\n")) {
        const c = await lines.read();
        if (c.done)
          throw new Error(`ws server ended before ${what}: ${await new Response(server.stderr).text()}`);
        out += c.value;
      }
      const line = out.slice(0, out.indexOf("\n"));
      out = out.slice(line.length + 1);
      return JSON.parse(line) as Record<string, number>;
    };
    const { port } = await nextLine("listening");
    const c = raw(`wss://127.0.0.1:${port}/stream`, tls.cert);
    const report = await Promise.race([
      nextLine("the close"),
      Bun.sleep(15_000).then(() => {
        throw new Error(`no report from the ws server in 15 s; client saw ${c.got.texts.length} frames`);
      }),
    ]);
    // Frame i as the server built it (ws-node-server.mjs).
    const frame = (i: number) =>
      i % 500 === 499
        ? `{"stream":"big","data":"${"x".repeat(70_000)}","i":${i}}`
        : `{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":${i},"p":"43000.${i % 100}"}}`;
    expect(c.got.texts.length).toBe(FRAMES);
    expect(c.got.texts.every((t, i) => t === frame(i))).toBe(true);
    expect(report.sent).toBe(FRAMES);
    expect(report.pinged).toBeGreaterThan(2);
    // Every ping sent before the close was answered, in order, with its own payload.
    expect(report.pongsMatching).toBe(report.pongs);
    expect(report.pongs).toBeGreaterThanOrEqual(report.pinged! - 1);
    expect(report.closeCode).toBe(1001);
    expect(c.got.close).toEqual([1001, "going away"]);
  });

  test("onRead comes once per socket read, before the frames that read completes", async () => {
    const text = (t: string) => Buffer.concat([Buffer.from([0x81, t.length]), Buffer.from(t)]);
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        async data(s, req) {
          const head = upgradeAnswer(req.toString());
          if (head === null) return;
          // Three writes, apart in time so each is its own read: the handshake's read with two
          // frames after it, two frames and half of a third, the third's rest.
          const third = text("c2");
          s.write(Buffer.concat([Buffer.from(head), text("a0"), text("a1")]));
          await Bun.sleep(40);
          s.write(Buffer.concat([text("b0"), text("b1"), third.subarray(0, 3)]));
          await Bun.sleep(40);
          s.write(third.subarray(3));
        },
      },
    });
    cleanups.push(() => server.stop(true));
    const events: string[] = [];
    new RawWebSocket(
      `ws://127.0.0.1:${server.port}/`,
      {
        onOpen: () => events.push("open"),
        onRead: () => events.push("read"),
        onText: (b, start, end) => events.push(utf8Text(b, start, end)),
        onBinary: () => {},
        onPing: () => {},
        onError: () => {},
        onClose: () => {},
      },
      { maxMessageBytes: 1 << 20 },
    );
    await waitUntil(() => events.includes("c2"), 3000, "five frames");
    expect(events).toEqual(["open", "read", "a0", "a1", "read", "b0", "b1", "read", "c2"]);
  });

  test("a read that takes longer than its slice lets the event loop turn, then goes on in order", async () => {
    const N = 2000;
    const burst = Buffer.concat(
      Array.from({ length: N }, (_, i) => {
        const t = Buffer.from(`m${i}`);
        return Buffer.concat([Buffer.from([0x81, t.length]), t]);
      }),
    );
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(s, req) {
          const head = upgradeAnswer(req.toString());
          if (head !== null) s.write(Buffer.concat([Buffer.from(head), burst])); // one read: ~14 KB
        },
      },
    });
    cleanups.push(() => server.stop(true));
    const texts: string[] = [];
    let atTimer = -1;
    const ws = new RawWebSocket(
      `ws://127.0.0.1:${server.port}/`,
      {
        onOpen: () => {},
        onText: (b, start, end) => {
          if (texts.length === 0) setTimeout(() => (atTimer = texts.length), 0);
          texts.push(utf8Text(b, start, end));
          // A slow receiver: 0.1 ms a frame, the burst ~200 ms, far over the 10 ms slice.
          const until = performance.now() + 0.1;
          while (performance.now() < until);
        },
        onBinary: () => {},
        onPing: () => {},
        onError: () => {},
        onClose: () => {},
      },
      { maxMessageBytes: 1 << 20 },
    );
    cleanups.push(() => ws.terminate());
    await waitUntil(() => texts.length === N, 5000, "the burst");
    // The timer set at the first frame ran while the burst was still being read.
    expect(atTimer).toBeGreaterThan(0);
    expect(atTimer).toBeLessThan(N);
    expect(ws.yields).toBeGreaterThan(0);
    expect(texts).toEqual(Array.from({ length: N }, (_, i) => `m${i}`));
  });

  test("a read's memory is returned once its frames are read; what the receiver copied is intact", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("upgrade", { status: 400 })),
      websocket: {
        open(ws) {
          // After the handshake's read (whose leftover bytes the client copies once).
          setTimeout(() => {
            for (let i = 0; i < 50; i++) ws.send(`{"n":${i}}`);
          }, 50);
        },
        message() {},
      },
    });
    cleanups.push(() => server.stop(true));
    const reads: Buffer[] = [];
    const texts: string[] = [];
    new RawWebSocket(
      `ws://127.0.0.1:${server.port}/`,
      {
        onOpen: () => {},
        onText: (b, start, end) => {
          if (reads.at(-1) !== b) reads.push(b);
          texts.push(utf8Text(b, start, end));
        },
        onBinary: () => {},
        onPing: () => {},
        onError: () => {},
        onClose: () => {},
      },
      { maxMessageBytes: 1 << 20 },
    );
    await waitUntil(() => texts.length === 50, 3000, "50 frames");
    expect(texts[49]).toBe('{"n":49}');
    expect(reads.length).toBeGreaterThan(0);
    // Every buffer a frame came in is detached now: its memory went back without a collection.
    expect(reads.map((b) => b.buffer.byteLength)).toEqual(reads.map(() => 0));
  });
});
