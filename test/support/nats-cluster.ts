/**
 * A private N-node NATS JetStream cluster for one test file or bench: its own config files, storage
 * and log files in a temp folder, free loopback ports, servers started and stopped by pid. It never
 * looks for or touches a system-wide nats-server (Debian's package installs one as a service).
 *   const c = await startNatsCluster();      // 3 nodes, ready once an R3 stream can be created
 *   c.kill(c.indexOf(await c.leaderOf("K2")));  // SIGKILL the stream leader
 *   await c.stopAll();                        // in afterAll: every server, then the temp folder
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";

export interface NatsClusterOptions {
  /** Servers in the cluster (default 3). */
  readonly nodes?: number;
  /** Bound on the wait for a replicated stream to be creatable (default 10 s). */
  readonly readyTimeoutMs?: number;
  /** JetStream memory store limit per server (default 256 MB). */
  readonly maxMemoryStore?: string;
}

interface Node {
  readonly name: string;
  readonly clientPort: number;
  readonly clusterPort: number;
  readonly httpPort: number;
  readonly configPath: string;
  readonly logPath: string;
  proc: Bun.Subprocess<"ignore", "ignore", "ignore"> | undefined;
}

export interface NatsCluster {
  /** `nats://127.0.0.1:<port>` of every node, in node order. */
  readonly urls: readonly string[];
  /** `http://127.0.0.1:<port>` monitoring endpoint of every node (/varz, /jsz, /healthz). */
  readonly monitorUrls: readonly string[];
  readonly dir: string;
  /** Server names, in node order (`n0`, `n1`, ...): what JetStream reports as a leader. */
  readonly names: readonly string[];
  pid(i: number): number | undefined;
  /** SIGKILL node i by pid and wait for it to exit. */
  kill(i: number): Promise<void>;
  /** Start node i again with its config and storage; resolves once its client port accepts. */
  restart(i: number): Promise<void>;
  /** Every server by pid (TERM, then KILL after 3 s), then the temp folder. Idempotent. */
  stopAll(): Promise<void>;
  /** Index of the node leading `stream` (asks JetStream through any live node). */
  leaderOf(stream: string): Promise<number>;
  /** A client connection to every node (reconnecting); the caller closes it. */
  connect(): Promise<NatsConnection>;
  /** The last lines of node i's log, for error messages. */
  logTail(i: number, lines?: number): string;
}

/** Where Debian's package puts the binary (/usr/sbin is often not on a non-root PATH). */
export function natsServerPath(): string {
  const found = Bun.which("nats-server", { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/usr/local/sbin` });
  if (!found)
    throw new Error(
      "nats-server not found: install it with `make nats-server` (apt-get install nats-server)",
    );
  return found;
}

/** Free loopback ports: all held open at once so no two are the same, then released. */
async function freePorts(n: number): Promise<number[]> {
  const held = Array.from({ length: n }, () =>
    Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }),
  );
  const ports = held.map((l) => l.port);
  for (const l of held) l.stop(true);
  return ports;
}

function configText(node: Node, all: readonly Node[], storeDir: string, maxMem: string): string {
  const routes = all
    .filter((n) => n !== node)
    .map((n) => `"nats-route://127.0.0.1:${n.clusterPort}"`)
    .join(", ");
  return `server_name: "${node.name}"
listen: "127.0.0.1:${node.clientPort}"
http: "127.0.0.1:${node.httpPort}"
log_file: "${node.logPath}"
jetstream {
  store_dir: "${storeDir}"
  max_memory_store: ${maxMem}
  max_file_store: 4GB
}
cluster {
  name: "k2test"
  listen: "127.0.0.1:${node.clusterPort}"
  routes: [${routes}]
}
`;
}

async function portAccepts(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const count = opts.nodes ?? 3;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const bin = natsServerPath();
  const dir = mkdtempSync(join(tmpdir(), "k2-nats-"));
  const ports = await freePorts(count * 3);
  const nodes: Node[] = Array.from({ length: count }, (_, i) => ({
    name: `n${i}`,
    clientPort: ports[i * 3]!,
    clusterPort: ports[i * 3 + 1]!,
    httpPort: ports[i * 3 + 2]!,
    configPath: join(dir, `n${i}.conf`),
    logPath: join(dir, `n${i}.log`),
    proc: undefined,
  }));
  for (const [i, n] of nodes.entries()) {
    const store = join(dir, `store-${i}`);
    mkdirSync(store);
    writeFileSync(n.configPath, configText(n, nodes, store, opts.maxMemoryStore ?? "256MB"));
  }
  let stopped = false;

  const spawn = (n: Node) => {
    // Output goes to log_file: an unread pipe would fill and stall the server.
    n.proc = Bun.spawn([bin, "-c", n.configPath], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  };
  const logTail = (i: number, lines = 20): string => {
    try {
      return readFileSync(nodes[i]!.logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  };
  const node = (i: number): Node => {
    const n = nodes[i];
    if (!n) throw new RangeError(`no node ${i} in a ${count}-node cluster`);
    return n;
  };
  const urls = nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`);

  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    const live = nodes.flatMap((n) => (n.proc && n.proc.exitCode === null ? [n.proc] : []));
    for (const p of live) p.kill("SIGTERM");
    const all = Promise.all(live.map((p) => p.exited));
    if ((await Promise.race([all, Bun.sleep(3000).then(() => "late")])) === "late") {
      for (const p of live) if (p.exitCode === null) p.kill("SIGKILL");
      await all;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const cluster: NatsCluster = {
    urls,
    monitorUrls: nodes.map((n) => `http://127.0.0.1:${n.httpPort}`),
    dir,
    names: nodes.map((n) => n.name),
    pid: (i) => {
      const p = node(i).proc;
      return p && p.exitCode === null && p.signalCode === null ? p.pid : undefined;
    },
    async kill(i) {
      const p = node(i).proc;
      if (!p || p.exitCode !== null) return;
      p.kill("SIGKILL");
      await p.exited;
    },
    async restart(i) {
      const n = node(i);
      if (n.proc && n.proc.exitCode === null && n.proc.signalCode === null)
        throw new Error(`node ${i} is still running (pid ${n.proc.pid}): kill it first`);
      spawn(n);
      const deadline = performance.now() + readyTimeoutMs;
      while (!(await portAccepts(n.clientPort))) {
        if (performance.now() > deadline || n.proc?.exitCode != null)
          throw new Error(`node ${i} did not come back on port ${n.clientPort}:\n${logTail(i)}`);
        await Bun.sleep(25);
      }
    },
    stopAll,
    async leaderOf(stream) {
      // Only live nodes: a client would otherwise spend its connect timeout on a killed one.
      const live = urls.filter((_, i) => cluster.pid(i) !== undefined);
      const nc = await connect({ servers: live, timeout: 2000 });
      try {
        const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2000 });
        const info = await jsm.streams.info(stream);
        const leader = info.cluster?.leader;
        const i = nodes.findIndex((n) => n.name === leader);
        if (i < 0) throw new Error(`stream ${stream} has no leader yet (reported ${String(leader)})`);
        return i;
      } finally {
        await nc.close();
      }
    },
    connect: () =>
      connect({ servers: urls, maxReconnectAttempts: -1, reconnectTimeWait: 100, timeout: 2000 }),
    logTail,
  };

  try {
    for (const n of nodes) spawn(n);
    await waitForReplicatedStream(cluster, count, readyTimeoutMs);
  } catch (e) {
    const logs = nodes.map((_, i) => `--- n${i}\n${logTail(i, 8)}`).join("\n");
    await stopAll();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
  return cluster;
}

/** Ready means what the tests need: a stream with `replicas` replicas can be created (and is removed). */
async function waitForReplicatedStream(c: NatsCluster, replicas: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  let nc: NatsConnection | undefined;
  try {
    while (performance.now() < deadline) {
      try {
        nc ??= await connect({ servers: [...c.urls], timeout: 1000 });
        const jsm = await jetstreamManager(nc, { timeout: 1000 });
        await jsm.streams.add({
          name: "k2_ready_probe",
          subjects: ["k2_ready_probe"],
          num_replicas: replicas,
        });
        await jsm.streams.delete("k2_ready_probe");
        return;
      } catch (e) {
        last = (e as Error).message;
        await Bun.sleep(100);
      }
    }
    throw new Error(`NATS cluster not ready after ${timeoutMs} ms (an R${replicas} stream): ${last}`);
  } finally {
    await nc?.close();
  }
}
