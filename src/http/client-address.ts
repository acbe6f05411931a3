/**
 * The client's address for a request. Bun gives it only through the server that accepted the
 * connection, which app.handle(request) does not see, so the serving code records it here:
 * `fetch: (req, server) => app.handle(withClient(req, server))`.
 */

interface AddressSource {
  requestIP(req: Request): { address: string } | null;
}

const addresses = new WeakMap<Request, string>();

export function withClient(req: Request, server: AddressSource | undefined): Request {
  const ip = server?.requestIP(req)?.address;
  if (ip) addresses.set(req, ip);
  return req;
}

/** The recorded address, or undefined (in-process app.handle calls, or not recorded). */
export function clientAddress(req: Request): string | undefined {
  return addresses.get(req);
}
