/**
 * Claiming a data dir at start, before anything in it is opened: take the lock, or find out who
 * holds it. The owner answers "who" at once; what else it answers (the hand-over, handover.ts) is
 * set once it runs.
 */
import { ask, DataDirLock, type LineHandler, lockName } from "./lock.ts";

/** What the owner tells a second K2 that asks. */
export interface OwnerInfo {
  pid: number;
  version: string;
  dataDir: string;
  startedAtMs: number;
  /** The HTTP API's URL once it serves; null while the owner is still starting. */
  url: string | null;
}

/** How long a second K2 waits for the owner to say who it is (a frozen owner says nothing). */
export const OWNER_ANSWER_TIMEOUT_MS = 3000;
/** The owner may end between our failed bind and our question: try the lock again this often. */
const CLAIM_ATTEMPTS = 3;

export class DataDirTakenError extends Error {
  readonly kind = "data_dir_taken";
  readonly retryable = false;
  constructor(
    readonly dataDir: string,
    readonly owner: OwnerInfo | null,
  ) {
    super(
      owner
        ? `data dir ${dataDir} is in use by K2 pid ${owner.pid} (${owner.url ?? "starting"}, version ${owner.version}); stop it first: two K2 processes never write one data dir`
        : `data dir ${dataDir} is in use by a K2 that did not answer within ${OWNER_ANSWER_TIMEOUT_MS} ms (frozen or overloaded?); stop it first`,
    );
  }
}

export interface Claim {
  readonly name: string;
  /** Mutable: set `url` once the HTTP API serves, so a second K2 can name it. */
  readonly info: OwnerInfo;
  /** Answer requests other than "who" (before: "still starting"). */
  setHandler(h: LineHandler): void;
  /** Hand the lock to a successor; peers already connected stay connected. */
  stopListening(): void;
  /** Take the lock again after stopListening (a successor that went away): false if taken. */
  retake(): boolean;
  release(): void;
}

export function newOwnerInfo(dataDir: string, version: string): OwnerInfo {
  return { pid: process.pid, version, dataDir, startedAtMs: Date.now(), url: null };
}

/** Take the lock if it is free; null if another process holds it. */
export function tryClaim(dataDir: string, info: OwnerInfo, scope = "all"): Claim | null {
  const name = lockName(dataDir, scope);
  let handler: LineHandler = () => ({ ok: false, error: "still starting; try again" });
  const handle: LineHandler = (req, peer) => {
    if ((req as { op?: unknown } | null)?.op === "who") return { ok: true, owner: info };
    return handler(req, peer);
  };
  let lock = DataDirLock.tryAcquire(name, handle);
  if (!lock) return null;
  return {
    name,
    info,
    setHandler: (h) => {
      handler = h;
    },
    stopListening: () => lock?.stopListening(),
    retake: () => {
      const again = DataDirLock.tryAcquire(name, handle);
      if (!again) return false;
      lock = again;
      return true;
    },
    release: () => lock?.release(),
  };
}

/** `scope`: "all" for a K2 that owns the folder, `writer-<i>-of-<N>` for a writer shard of a shared one. */
export async function claimDataDir(dataDir: string, version: string, scope = "all"): Promise<Claim> {
  const info = newOwnerInfo(dataDir, version);
  for (let attempt = 1; ; attempt++) {
    const claim = tryClaim(dataDir, info, scope);
    if (claim) return claim;
    const reply = (await ask(lockName(dataDir, scope), { op: "who" }, OWNER_ANSWER_TIMEOUT_MS)) as {
      owner?: OwnerInfo;
    } | null;
    if (reply?.owner) throw new DataDirTakenError(dataDir, reply.owner);
    // No answer: the owner ended meanwhile (the lock is free again) or it is frozen.
    if (attempt >= CLAIM_ATTEMPTS) throw new DataDirTakenError(dataDir, null);
  }
}
