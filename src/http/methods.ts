/**
 * Which methods a path is served for, so a request with another method is answered 405 with an
 * Allow header rather than 404 (the router only says "no route"). Built from the app's own route
 * list, so it never disagrees with what is served.
 */

interface RouteLike {
  readonly method: string;
  readonly path: string;
}

/** "/v1/summary/:symbol" → /^\/v1\/summary\/[^/]+$/ */
function pattern(path: string): RegExp {
  const re = path
    .split("/")
    .map((part) =>
      part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("/");
  return new RegExp(`^${re}$`);
}

export class MethodIndex {
  #seen = -1;
  #routes: { re: RegExp; method: string }[] = [];

  constructor(private readonly routes: () => readonly RouteLike[]) {}

  /** Methods `pathname` is served for, sorted (HEAD with GET: Bun answers it); empty when none. */
  allowed(pathname: string): string[] {
    const all = this.routes();
    // Routes are only ever added (plugins at start): rebuild when the count changes.
    if (all.length !== this.#seen) {
      this.#routes = all.map((r) => ({ re: pattern(r.path), method: r.method.toUpperCase() }));
      this.#seen = all.length;
    }
    const out = new Set<string>();
    for (const r of this.#routes) if (r.method !== "OPTIONS" && r.re.test(pathname)) out.add(r.method);
    if (out.has("GET")) out.add("HEAD");
    return [...out].sort();
  }
}
