/** cli/: `k2 query ...` against a running server, `k2 dlq ...` and `k2 verify ...` over the data folder, `k2 backfill ...` from the archive (src/main.ts dispatches here before loading config). */

export { CliArgError, parseDurationMs, parseQueryArgs, QUERY_COMMANDS, QUERY_HELP } from "./args.ts";
export { backfillMain, runBackfillCli } from "./backfill.ts";
export { BACKFILL_HELP, parseBackfillArgs } from "./backfill-args.ts";
export { dlqMain, runDlqCli } from "./dlq.ts";
export { DLQ_HELP, parseDlqArgs } from "./dlq-args.ts";
export { type CliIo, errorLine, main, runQueryCli } from "./query.ts";
export { runVerifyCli, VERIFY_HELP, verifyMain } from "./verify.ts";
