/**
 * Run only by guard.test.ts (`bun test ./test/support/guard.fixture.ts`; the name keeps it out of
 * the default suite): one clean test, then one test per kind of leak, then a leak outside tests.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Outside any test and never cleared: reported when the file ends.
setInterval(function fileScopeTick() {}, 60_000);

let wsServer: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  wsServer = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req, srv) => (srv.upgrade(req, { data: undefined }) ? undefined : new Response("no")),
    websocket: { message() {} },
  });
});
afterAll(() => wsServer.stop(true));

const openWs = async (): Promise<WebSocket> => {
  const ws = new WebSocket(`ws://127.0.0.1:${wsServer.port}/`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  return ws;
};

test("clean: everything opened is closed", async () => {
  const proc = Bun.spawn(["true"]);
  await proc.exited;
  const killed = Bun.spawn(["sleep", "30"]);
  killed.kill();
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
  expect(await (await fetch(server.url)).text()).toBe("ok");
  server.stop(true);
  await new Promise((r) => setTimeout(r, 1));
  clearInterval(setInterval(() => {}, 10));
  setTimeout(() => {}, 60_000).unref();
  rmSync(mkdtempSync(join(tmpdir(), "fx-clean-")), { recursive: true });
  const ws = await openWs();
  ws.close();
});

test("leaks a child process", () => {
  Bun.spawn(["sleep", "30"]);
});

test("leaks a server", () => {
  Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
});

test("leaks a listener", () => {
  Bun.listen({ port: 0, hostname: "127.0.0.1", socket: { data() {} } });
});

test("leaks a websocket client", async () => {
  await openWs();
});

test("leaks a timer and an interval", () => {
  setTimeout(function pendingTimeout() {}, 60_000);
  setInterval(function pendingInterval() {}, 60_000);
});

test("leaks a temp folder", () => {
  mkdtempSync(join(tmpdir(), "fx-leak-"));
});
