/**
 * The test resource guard's tracker: records the child processes, servers, listeners, WebSocket
 * clients, timers and temp entries a test opens, and says which are still open when the test (or,
 * for ones opened outside a test, its file) ends. The old suite ran 24 h soaks under `make test`
 * and left processes behind until the machine fell over; this makes such a leak a named finding.
 *
 * How each kind is seen, cheaply (no callback wrapping, no per-call allocation beyond one record):
 * - child processes: `Bun.spawn` (node:child_process goes through it too); open while it has not
 *   exited and no kill() was asked for.
 * - servers / listeners: `Bun.serve` (Elysia's listen() too) and `Bun.listen`; open until stop().
 * - WebSocket clients: the global `WebSocket` class; open while CONNECTING or OPEN.
 * - timers: global setTimeout/setInterval; open while `hasRef()` is true — which is already false
 *   for a timer that fired, was cleared or closed, or was unref'd, so those never count.
 * - temp entries: the process gets a private TMPDIR (so `os.tmpdir()` points into it and other
 *   processes on the machine cannot be mistaken for ours); an entry a test adds and leaves is a leak.
 * Named imports of node:fs cannot be patched in Bun, hence the directory scan for temp entries.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

export type GuardMode = "fail" | "warn" | "off";

/** K2_TEST_GUARD: fail (default: a leak fails the test), warn (a leak is printed), off. */
export function parseGuardMode(raw: string | undefined): GuardMode {
  if (raw === undefined || raw === "") return "fail";
  if (raw === "fail" || raw === "warn" || raw === "off") return raw;
  throw new Error(`K2_TEST_GUARD=${JSON.stringify(raw)}: expected fail, warn or off`);
}

export type LeakKind = "child process" | "server" | "listener" | "websocket" | "timer" | "temp entry";

export interface Leak {
  readonly kind: LeakKind;
  /** What it is, e.g. `pid 123: bun run src/main.ts`. */
  readonly what: string;
  /** Where it was created (first frame outside the guard), when known. */
  readonly where: string;
}

interface Rec {
  readonly kind: LeakKind;
  /** Test file (Bun.main) when created. */
  readonly file: string;
  /** Ordinal of the test in its file when created; 0 = outside a test (module load, beforeAll). */
  readonly test: number;
  readonly origin: Error | undefined;
  reported: boolean;
  isOpen(): boolean;
  what(): string;
  close(): void;
}

/** Frames kept per creation site: enough to get past the guard and a helper or two. */
const STACK_FRAMES = 8;
/** Records swept for closed ones after this many additions between two checks. */
const SWEEP_EVERY = 4096;

export interface GuardHost {
  Bun: { spawn: unknown; serve: unknown; listen: unknown; readonly main: string };
  globalThis: { setTimeout: unknown; setInterval: unknown; WebSocket: unknown };
}

export interface GuardOptions {
  mode: GuardMode;
  root: string;
  /** Report sink (default console.warn). */
  warn?: (text: string) => void;
}

export class ResourceGuard {
  readonly mode: GuardMode;
  readonly tempRoot: string;
  private readonly warn: (text: string) => void;
  private readonly open = new Set<Rec>();
  private added = 0;
  private file = "";
  private testNo = 0;
  private inTest = false;
  /** Temp entries seen in tempRoot, with who created them. */
  private readonly temp = new Map<string, Rec>();
  private readonly restore: (() => void)[] = [];
  private host: GuardHost | undefined;

  /** Reports of the latest check in fail mode; the preload's hook throws them. */
  readonly failures: string[] = [];
  private readonly root: string;

  constructor(opts: GuardOptions & { tempRoot: string }) {
    this.mode = opts.mode;
    this.tempRoot = opts.tempRoot;
    this.warn = opts.warn ?? ((t) => console.warn(t));
    this.root = opts.root;
  }

  /** Patch the host's constructors and functions; undone by uninstall(). */
  install(host: GuardHost): void {
    const g = this;
    this.host = host;
    const B = host.Bun as Record<string, unknown>;
    const G = host.globalThis as Record<string, unknown>;
    const swap = (obj: Record<string, unknown>, key: string, make: (orig: never) => unknown) => {
      const orig = obj[key];
      if (typeof orig !== "function") return;
      obj[key] = make(orig as never);
      this.restore.push(() => {
        obj[key] = orig;
      });
    };

    swap(
      B,
      "spawn",
      (orig: (...a: unknown[]) => Bun.Subprocess) =>
        function spawn(this: unknown, ...args: unknown[]) {
          const proc = orig.apply(this, args);
          let killAsked = false;
          const kill = proc.kill;
          proc.kill = function (this: unknown, ...k: unknown[]) {
            killAsked = true;
            return (kill as (...a: unknown[]) => void).apply(proc, k);
          } as typeof proc.kill;
          const cmd = describeCmd(args[0]);
          const rec = g.track("child process", {
            isOpen: () => !killAsked && proc.exitCode === null && proc.signalCode === null,
            what: () => `pid ${proc.pid}: ${cmd}`,
            close: () => kill.call(proc, "SIGKILL"),
          });
          proc.exited.then(
            () => g.open.delete(rec),
            () => g.open.delete(rec),
          );
          return proc;
        },
    );

    const stoppable = (kind: "server" | "listener") => (orig: (...a: unknown[]) => { stop: unknown }) =>
      function (this: unknown, ...args: unknown[]) {
        const s = orig.apply(this, args) as Record<string | symbol, unknown> & { stop: unknown };
        let stopped = false;
        const stop = s.stop as (...a: unknown[]) => unknown;
        s.stop = (...a: unknown[]) => {
          stopped = true;
          return stop.apply(s, a);
        };
        // `using server = Bun.serve(...)` stops through Symbol.dispose, which is read-only on
        // Bun's server object: such a server is reported as open (stop it explicitly instead).
        g.track(kind, {
          isOpen: () => !stopped,
          what: () => `${kind} ${describeUrl(s)}`,
          close: () => {
            stopped = true;
            stop.call(s, true);
          },
        });
        return s;
      };
    swap(B, "serve", stoppable("server"));
    swap(B, "listen", stoppable("listener"));

    for (const name of ["setTimeout", "setInterval"] as const) {
      swap(G, name, (orig: (...a: unknown[]) => { hasRef(): boolean }) => {
        const clear = name === "setTimeout" ? globalThis.clearTimeout : globalThis.clearInterval;
        return function (this: unknown, ...args: unknown[]) {
          const t = orig.apply(this, args);
          if (t !== null && typeof t === "object" && typeof t.hasRef === "function") {
            const ms = args[1];
            g.track("timer", {
              isOpen: () => t.hasRef(),
              what: () => `${name}(${fnName(args[0])}, ${typeof ms === "number" ? ms : 0} ms)`,
              close: () => clear(t as never),
            });
          }
          return t;
        };
      });
    }

    const WS = G.WebSocket as (new (...a: never[]) => WebSocket) | undefined;
    if (typeof WS === "function") {
      class TrackedWebSocket extends WS {
        constructor(...args: never[]) {
          super(...args);
          const ws = this as unknown as WebSocket;
          g.track("websocket", {
            isOpen: () => ws.readyState === 0 || ws.readyState === 1,
            what: () => `websocket client ${ws.url}`,
            close: () => ws.close(),
          });
        }
      }
      G.WebSocket = TrackedWebSocket;
      this.restore.push(() => {
        G.WebSocket = WS;
      });
    }
  }

  uninstall(): void {
    for (const r of this.restore.splice(0).reverse()) r();
  }

  private track(kind: LeakKind, how: Pick<Rec, "isOpen" | "what" | "close">): Rec {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = STACK_FRAMES;
    const origin = new Error();
    Error.stackTraceLimit = limit;
    // Bun.main is the file being loaded or run, also during its module load and beforeAll.
    const file = this.host?.Bun.main ?? this.file;
    const test = this.inTest && file === this.file ? this.testNo : 0;
    const rec: Rec = { kind, file, test, origin, reported: false, ...how };
    this.open.add(rec);
    if (++this.added >= SWEEP_EVERY) this.sweep();
    return rec;
  }

  private sweep(): void {
    this.added = 0;
    for (const r of this.open) if (!r.isOpen()) this.open.delete(r);
  }

  /** Global beforeEach: `file` is the running test file (Bun.main). */
  testStarted(file: string): Leak[] {
    let found: Leak[] = [];
    if (file !== this.file) {
      const previous = this.file;
      this.file = file;
      this.testNo = 0;
      // Entries present now that were not before came from this file's load or beforeAll.
      this.scanTemp(0);
      if (previous !== "")
        found = this.collect((r) => r.file !== file, `${this.rel(previous)} (outside tests)`);
    } else {
      this.scanTemp(0);
    }
    this.testNo++;
    this.inTest = true;
    return found;
  }

  /** Global afterEach: what the test that just ran left open. */
  testEnded(): Leak[] {
    this.inTest = false;
    this.scanTemp(this.testNo);
    const test = this.testNo;
    return this.collect((r) => r.file === this.file && r.test === test, this.testLabel());
  }

  /** Global afterAll: the last file's leftovers, then a final sweep of the whole run. */
  runEnded(): Leak[] {
    this.scanTemp(0);
    const found = this.collect((r) => r.file === this.file, `${this.rel(this.file)} (outside tests)`);
    // Whatever mode: nothing this run started outlives it.
    for (const r of this.open) if (r.isOpen()) r.close();
    this.open.clear();
    this.uninstall();
    rmSync(this.tempRoot, { recursive: true, force: true });
    return found;
  }

  testLabel(): string {
    return `${this.rel(this.file)} test #${this.testNo}`;
  }

  /** Open records matching `pick` that were not reported yet: reported (and closed in fail mode). */
  private collect(pick: (r: Rec) => boolean, scope: string): Leak[] {
    const leaks: Leak[] = [];
    const recs: Rec[] = [];
    for (const r of this.open) {
      if (r.reported || !pick(r)) continue;
      if (!r.isOpen()) {
        this.open.delete(r);
        continue;
      }
      r.reported = true;
      recs.push(r);
    }
    for (const [, r] of this.temp)
      if (!r.reported && pick(r) && r.isOpen()) {
        r.reported = true;
        recs.push(r);
      }
    for (const r of recs) {
      leaks.push({ kind: r.kind, what: r.what(), where: this.where(r.origin) });
      if (this.mode === "fail") {
        r.close();
        this.open.delete(r);
      }
    }
    if (leaks.length > 0) this.report(scope, leaks);
    return leaks;
  }

  private report(scope: string, leaks: Leak[]): void {
    const text = formatLeaks(scope, leaks);
    if (this.mode === "fail") this.failures.push(text);
    else this.warn(`${text}\n  (K2_TEST_GUARD=warn: reported, not failed)`);
  }

  private scanTemp(test: number): void {
    let names: string[];
    try {
      names = readdirSync(this.tempRoot);
    } catch {
      return;
    }
    const present = new Set(names);
    for (const name of this.temp.keys()) if (!present.has(name)) this.temp.delete(name);
    for (const name of names) {
      if (this.temp.has(name)) continue;
      const path = join(this.tempRoot, name);
      this.temp.set(name, {
        kind: "temp entry",
        file: this.file,
        test,
        origin: undefined,
        reported: false,
        isOpen: () => this.temp.has(name),
        what: () => `temp entry ${name} (in os.tmpdir() = ${this.tempRoot})`,
        close: () => {
          rmSync(path, { recursive: true, force: true });
          this.temp.delete(name);
        },
      });
    }
  }

  private where(origin: Error | undefined): string {
    if (!origin?.stack) return "";
    const frames: string[] = [];
    for (const line of origin.stack.split("\n").slice(1)) {
      const m = /\(?((?:\/|[A-Za-z]:\\)[^():]+):(\d+):\d+\)?\s*$/.exec(line);
      if (!m) continue;
      const file = m[1]!;
      if (file.endsWith("/test/support/guard-core.ts") || file.endsWith("/test/support/guard.ts")) continue;
      frames.push(`${this.rel(file)}:${m[2]}`);
    }
    // The creator, and the test-file frame that led to it when that is a different one.
    const first = frames[0];
    const fromTest = frames.find((f) => /\.(test|spec|fixture)\.[jt]sx?:/.test(f));
    if (!first) return "";
    return fromTest && fromTest !== first ? `${first} (from ${fromTest})` : first;
  }

  private rel(path: string): string {
    return path.startsWith(this.root) ? relative(this.root, path) : path;
  }
}

export function formatLeaks(scope: string, leaks: readonly Leak[]): string {
  const lines = [`k2 test guard: ${scope} left ${leaks.length} resource(s) open:`];
  for (const l of leaks) lines.push(`  - ${l.kind}: ${l.what}${l.where ? `, created at ${l.where}` : ""}`);
  return lines.join("\n");
}

/** A private temp root for this test process, so the scan sees only what this run created. */
export function makeTempRoot(): string {
  return mkdtempSync(join(tmpdir(), `k2-test-${process.pid}-`));
}

function describeCmd(arg: unknown): string {
  const cmd = Array.isArray(arg) ? arg : (arg as { cmd?: unknown } | undefined)?.cmd;
  if (!Array.isArray(cmd)) return "?";
  const text = cmd.map(String).join(" ");
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function describeUrl(s: Record<string | symbol, unknown>): string {
  try {
    const url = s.url;
    if (url instanceof URL) return url.href;
    return `${String(s.hostname ?? "?")}:${String(s.port ?? "?")}`;
  } catch {
    return "(stopped)";
  }
}

function fnName(cb: unknown): string {
  return typeof cb === "function" && cb.name ? cb.name : "<anonymous>";
}
