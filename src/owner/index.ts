export {
  type Claim,
  claimDataDir,
  DataDirTakenError,
  OWNER_ANSWER_TIMEOUT_MS,
  type OwnerInfo,
} from "./claim.ts";
export { ask, DataDirLock, lockName } from "./lock.ts";
export { portInUse } from "./port.ts";
