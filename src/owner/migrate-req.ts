/**
 * A hand-over (SO_REUSEPORT) ends with the old process closing its listener. Linux resets the
 * connections still queued on it unless net.ipv4.tcp_migrate_req=1 moves them to the new
 * listener (docs/RUNBOOK.md, "Hand-over"). K2 does not change host settings; it says so.
 */
import { readFileSync } from "node:fs";

const SETTING = "/proc/sys/net/ipv4/tcp_migrate_req";

/** A warning to log when hand-overs may reset a queued connection; null when fine or unknown. */
export function migrateReqWarning(
  read: (path: string) => string = (p) => readFileSync(p, "utf8"),
): string | null {
  let v: string;
  try {
    v = read(SETTING).trim();
  } catch {
    return null; // not Linux, or a kernel before 5.14: nothing to say
  }
  return v === "0"
    ? "net.ipv4.tcp_migrate_req=0: during a hand-over a request queued on the old process's listener can be reset; set it to 1 (docs/RUNBOOK.md, Hand-over)"
    : null;
}
