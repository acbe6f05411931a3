/** One HTTP GET on a fresh connection from a given local loopback address; the status code. */
import net from "node:net";

export function statusFrom(url: string, path: string, localAddress: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: u.hostname, port: Number(u.port), localAddress }, () =>
      c.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`),
    );
    let text = "";
    c.setTimeout(5_000, () => c.destroy(new Error("no answer within 5 s")));
    c.on("data", (d) => {
      text += d.toString();
    });
    c.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    c.on("error", reject);
  });
}
