export {
  type Claim,
  claimDataDir,
  DataDirTakenError,
  newOwnerInfo,
  OWNER_ANSWER_TIMEOUT_MS,
  type OwnerInfo,
  tryClaim,
} from "./claim.ts";
export { type Drain, drainOnSignal } from "./exit.ts";
export { BlueSide, GreenSide, type GreenSummary, HandoverError, OVERLAP_MIN_MS } from "./handover.ts";
export { ask, ControlClient, DataDirLock, lockName, type Peer } from "./lock.ts";
export { HANDOVER_RESULTS, HandoverMetrics, type HandoverResult } from "./metrics.ts";
export { portInUse } from "./port.ts";
