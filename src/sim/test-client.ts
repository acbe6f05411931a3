/**
 * Test helper (not a test): a Bun WebSocket client that records every frame, ping and close, with
 * bounded waits. Tests use it against a real simulator on 127.0.0.1.
 */

export interface ClientFrame {
  text: string | null;
  binary: Uint8Array | null;
}

export interface TestClient {
  ws: WebSocket;
  frames: ClientFrame[];
  pings: number;
  closed: { code: number; reason: string } | null;
  /** Parsed JSON of text frames that parse; garbage is skipped. */
  json(): unknown[];
  send(obj: unknown): void;
  /** Wait until pred(frames) is true; throws after timeoutMs. */
  until(pred: (c: TestClient) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  waitClose(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function waitFor(pred: () => boolean, timeoutMs = 2000, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}

export function connect(url: string, timeoutMs = 2000): Promise<TestClient> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const c: TestClient = {
    ws,
    frames: [],
    pings: 0,
    closed: null,
    json() {
      const out: unknown[] = [];
      for (const f of c.frames) {
        if (f.text === null) continue;
        try {
          out.push(JSON.parse(f.text));
        } catch {
          // garbage frames are expected under the garbage fault
        }
      }
      return out;
    },
    send: (obj) => ws.send(typeof obj === "string" ? obj : JSON.stringify(obj)),
    until: (pred, t = 2000, what = "frames") => waitFor(() => pred(c), t, what),
    async waitClose(t = 2000) {
      await waitFor(() => c.closed !== null, t, "close");
      return c.closed!;
    },
    close() {
      if (c.closed === null) ws.terminate();
    },
  };
  ws.onmessage = (e) => {
    if (typeof e.data === "string") c.frames.push({ text: e.data, binary: null });
    else c.frames.push({ text: null, binary: new Uint8Array(e.data as ArrayBuffer) });
  };
  ws.addEventListener("ping", () => {
    c.pings++;
  });
  ws.onclose = (e) => {
    c.closed = { code: e.code, reason: e.reason };
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connect timeout ${url}`)), timeoutMs);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(c);
    };
    ws.onerror = (e) => {
      clearTimeout(timer);
      reject(new Error(`connect failed ${url}: ${(e as ErrorEvent).message}`));
    };
  });
}

/** Trade events (e == "trade") from raw or combined frames. */
export function tradesOf(c: TestClient): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const m of c.json()) {
    const o = m as Record<string, unknown>;
    const d = (o.data ?? o) as Record<string, unknown>;
    if (d.e === "trade") out.push(d);
  }
  return out;
}

export function aggsOf(c: TestClient): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const m of c.json()) {
    const o = m as Record<string, unknown>;
    const d = (o.data ?? o) as Record<string, unknown>;
    if (d.e === "aggTrade") out.push(d);
  }
  return out;
}
