/**
 * Static files for the live page and the API reference, served by K2 itself: no CDN, no build
 * step. Only the files named here are served (no path from the URL ever reaches the file
 * system), each read once at start-up so a request is a memory copy.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Elysia } from "elysia";

/** Folder of an installed npm package (each named package exports its package.json). */
function packageDir(name: string): string {
  return dirname(Bun.resolveSync(`${name}/package.json`, import.meta.dir));
}

const STATIC_DIR = join(import.meta.dir, "static");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** URL path → file on disk. Vendor files come from the exact versions in bun.lock. */
export const PAGE_FILES: Readonly<Record<string, string>> = {
  "/": join(STATIC_DIR, "index.html"),
  "/docs": join(STATIC_DIR, "docs.html"),
  "/page/app.js": join(STATIC_DIR, "app.js"),
  "/page/live.js": join(STATIC_DIR, "live.js"),
  "/page/book.js": join(STATIC_DIR, "book.js"),
  "/page/app.css": join(STATIC_DIR, "app.css"),
  "/page/vendor/lightweight-charts.js": join(
    packageDir("lightweight-charts"),
    "dist/lightweight-charts.standalone.production.js",
  ),
  "/docs/assets/swagger-ui-bundle.js": join(packageDir("swagger-ui-dist"), "swagger-ui-bundle.js"),
  "/docs/assets/swagger-ui.css": join(packageDir("swagger-ui-dist"), "swagger-ui.css"),
  "/docs/assets/docs.js": join(STATIC_DIR, "docs.js"),
};

function typeOf(path: string): string {
  const dot = path.lastIndexOf(".");
  return TYPES[path.slice(dot)] ?? "application/octet-stream";
}

/** Serves every file of PAGE_FILES; all are public, none holds market data. */
export function assetRoutes() {
  const app = new Elysia({ name: "page-assets" });
  const serve = (urlPath: string, file: string) => {
    const body = readFileSync(file);
    const headers = {
      "content-type": typeOf(file),
      // Vendor files change only with a K2 release; a short cache keeps a reload honest.
      "cache-control": "public, max-age=300",
      "x-content-type-options": "nosniff",
    };
    app.get(urlPath, () => new Response(body, { headers }), { detail: { hide: true } });
  };
  for (const [urlPath, file] of Object.entries(PAGE_FILES)) serve(urlPath, file);
  return app;
}
