/**
 * Ownership of a data dir: one running K2 per folder. The lock is a Unix socket in Linux's
 * abstract namespace, named from the folder's real path: binding it succeeds for one process
 * only, and the kernel releases it when that process ends in any way (SIGKILL included), so a
 * lock is never stale. The same socket is the owner's control channel (control.ts): a second
 * K2 asks it who owns the folder, and later the hand-over is agreed over it.
 * `scope` leaves room for the scale-out roles (a writer shard owns `writer-2-of-4` of a shared
 * layout); a single process owns scope "all".
 */
import { createHash } from "node:crypto";
import { mkdirSync, realpathSync } from "node:fs";
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";

/** Linux abstract socket names start with a NUL byte and have no file on disk. */
export function lockName(dataDir: string, scope = "all"): string {
  mkdirSync(dataDir, { recursive: true });
  const real = realpathSync(dataDir);
  const digest = createHash("sha256").update(`${real}\0${scope}`).digest("hex").slice(0, 32);
  return `\0k2/data-dir/${digest}`;
}

/** One JSON request from a peer in, the answer (written back as one JSON line) out. */
export type LineHandler = (request: unknown) => unknown | Promise<unknown>;

interface ConnState {
  buf: string;
}

/** Longest request line accepted from a peer; the protocol's lines are a few hundred bytes. */
const MAX_LINE_BYTES = 64 * 1024;

export class DataDirLock {
  private constructor(
    readonly name: string,
    private readonly listener: UnixSocketListener<ConnState> | TCPSocketListener<ConnState>,
  ) {}

  /**
   * Take the lock and answer peers with `handle`. Returns null when another process holds it.
   * Throws on any other failure (e.g. a platform without abstract sockets).
   */
  static tryAcquire(name: string, handle: LineHandler): DataDirLock | null {
    try {
      const listener = Bun.listen<ConnState>({
        unix: name,
        socket: {
          open: (s) => {
            s.data = { buf: "" };
          },
          data: (s, chunk) => onData(s, chunk, handle),
        },
      });
      return new DataDirLock(name, listener);
    } catch (e) {
      if ((e as { code?: string }).code === "EADDRINUSE") return null;
      throw e;
    }
  }

  release(): void {
    this.listener.stop(true);
  }
}

function onData(s: Socket<ConnState>, chunk: Buffer, handle: LineHandler): void {
  s.data.buf += chunk.toString("utf8");
  if (s.data.buf.length > MAX_LINE_BYTES) {
    s.end(`${JSON.stringify({ ok: false, error: "request line too long" })}\n`);
    return;
  }
  for (let nl = s.data.buf.indexOf("\n"); nl >= 0; nl = s.data.buf.indexOf("\n")) {
    const line = s.data.buf.slice(0, nl);
    s.data.buf = s.data.buf.slice(nl + 1);
    void answer(s, line, handle);
  }
}

async function answer(s: Socket<ConnState>, line: string, handle: LineHandler): Promise<void> {
  let reply: unknown;
  try {
    reply = await handle(JSON.parse(line));
  } catch (e) {
    reply = { ok: false, error: (e as Error).message };
  }
  s.write(`${JSON.stringify(reply)}\n`);
}

/**
 * Ask the owner one question over its control channel. Resolves with its answer, or null when
 * nobody listens (the owner just ended) or no answer came within `timeoutMs` (a frozen owner).
 */
export async function ask(name: string, request: unknown, timeoutMs: number): Promise<unknown | null> {
  return new Promise((resolve) => {
    let buf = "";
    let settled = false;
    let sock: Socket<undefined> | undefined;
    const done = (v: unknown | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock?.end();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    Bun.connect({
      unix: name,
      socket: {
        open: (s) => {
          sock = s;
          s.write(`${JSON.stringify(request)}\n`);
        },
        data: (_s, chunk) => {
          buf += chunk.toString("utf8");
          const nl = buf.indexOf("\n");
          if (nl < 0) return;
          try {
            done(JSON.parse(buf.slice(0, nl)));
          } catch {
            done(null);
          }
        },
        close: () => done(null),
        error: () => done(null),
      },
    }).catch(() => done(null));
  });
}
