/** completeness/: live kline reconciliation and per-(table, symbol, day) certificates (issue 17). */
export { CanonicalHash, CERT_TABLES, type CertTable } from "./canonical.ts";
export {
  CANONICAL_FORM,
  type Certificate,
  type CertifyDeps,
  type CertVerdict,
  certificatePath,
  certify,
} from "./certificate.ts";
export { KlineReconciler } from "./kline-reconciler.ts";
export { KLINE_VERDICTS, type KlineVerdict, type MinuteVerdict, readVerdicts } from "./kline-verdicts.ts";
export { MAX_SPOT_PAGES, type SpotCheck } from "./spot-check.ts";
