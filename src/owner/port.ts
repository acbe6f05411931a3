/**
 * Is the HTTP port free? Asked at start, before the data dir is opened, so a port taken by
 * another program is one line and exit 2 rather than a stack trace after the WAL was opened.
 * (The probe binds without SO_REUSEPORT: a listener that set it, such as another K2, still
 * makes the bind fail, so two unrelated processes can never split one port's traffic.)
 */
export function portInUse(hostname: string, port: number): boolean {
  if (port === 0) return false; // the OS picks a free one
  try {
    const probe = Bun.listen({ hostname, port, socket: { data() {} } });
    probe.stop(true);
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === "EADDRINUSE") return true;
    throw e;
  }
}
