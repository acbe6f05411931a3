/**
 * Claiming a data dir at start, before anything in it is opened: take the lock, or find out who
 * holds it and refuse with one line (main.ts exits 2). Until the hand-over between two K2
 * processes exists (issue 13), a second K2 on an owned folder always refuses.
 */
import { ask, DataDirLock, lockName } from "./lock.ts";

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
  readonly lock: DataDirLock;
  /** Mutable: set `url` once the HTTP API serves, so a second K2 can name it. */
  readonly info: OwnerInfo;
  release(): void;
}

export async function claimDataDir(dataDir: string, version: string): Promise<Claim> {
  const name = lockName(dataDir);
  const info: OwnerInfo = { pid: process.pid, version, dataDir, startedAtMs: Date.now(), url: null };
  for (let attempt = 1; ; attempt++) {
    const lock = DataDirLock.tryAcquire(name, (req) => answer(req, info));
    if (lock) return { lock, info, release: () => lock.release() };
    const reply = (await ask(name, { op: "who" }, OWNER_ANSWER_TIMEOUT_MS)) as { owner?: OwnerInfo } | null;
    if (reply?.owner) throw new DataDirTakenError(dataDir, reply.owner);
    // No answer: the owner ended meanwhile (the lock is free again) or it is frozen.
    if (attempt >= CLAIM_ATTEMPTS) throw new DataDirTakenError(dataDir, null);
  }
}

function answer(req: unknown, info: OwnerInfo): unknown {
  const op = (req as { op?: unknown } | null)?.op;
  if (op === "who") return { ok: true, owner: info };
  return { ok: false, error: `unknown op ${JSON.stringify(op)}` };
}
