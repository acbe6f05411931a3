// Reads a Server-Sent Events stream over fetch, not EventSource: EventSource cannot send the
// X-API-Key header that a keyed K2 asks for. Calls onEvent(name, data) per event; resolves when
// the stream ends and rejects with the HTTP error when K2 refuses it.
export async function readEvents(url, headers, onEvent, signal) {
  const res = await fetch(url, { headers, signal, cache: "no-store" });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    const err = new Error(body.error?.message ?? `${url}: HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let end = buf.indexOf("\n\n");
    while (end >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      end = buf.indexOf("\n\n");
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length > 0) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}
