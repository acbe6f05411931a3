/**
 * Server-Sent Events responses K2 ends at once when it stops: Bun's graceful stop
 * (`server.stop(false)`) waits for every open response, and an event stream stays open for
 * minutes, so without this one open page would hold a drain until K2_SHUTDOWN_GRACE_MS runs out
 * (exit 1). Each stream registers its `end` (send a last `end` event, close); the drain
 * (owner/exit.ts, through endLiveStreams) calls them all and new streams are refused after.
 */
const open = new Set<() => void>();
let stopping = false;

/** Register a stream's end; returns the function that unregisters it (call it when it closes). */
export function endOnStop(end: () => void): () => void {
  open.add(end);
  return () => {
    open.delete(end);
  };
}

/** K2 is stopping: end every open stream now and refuse new ones. Returns how many were ended. */
export function endStreams(): number {
  stopping = true;
  const ends = [...open];
  open.clear();
  for (const end of ends) end();
  return ends.length;
}

/** True once endStreams ran: a new stream is refused (503), the client retries elsewhere. */
export function streamsStopping(): boolean {
  return stopping;
}

/** For in-process tests that go on serving after endStreams. */
export function acceptStreams(): void {
  stopping = false;
}
