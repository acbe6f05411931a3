/** cli/: `k2 query ...` against a running server (src/main.ts dispatches here before loading config). */
export { CliArgError, parseDurationMs, parseQueryArgs, QUERY_COMMANDS, QUERY_HELP } from "./args.ts";
export { type CliIo, errorLine, main, runQueryCli } from "./query.ts";
