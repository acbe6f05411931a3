/**
 * Debian's Chromium driven by playwright-core (no browser download): a fresh profile per launch,
 * no background traffic, and every request that leaves 127.0.0.1 aborted and recorded, so a test
 * can prove a page needs nothing from outside. `make chromium` installs the browser.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  readonly context: BrowserContext;
  /** URLs the pages asked for beyond 127.0.0.1 (all were aborted). */
  readonly outside: string[];
  /** Console errors and uncaught exceptions, per page, in order. */
  errorsOf(page: Page): string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install it with \`make chromium\` (Debian's chromium package)`);
  const profile = mkdtempSync(join(tmpdir(), "k2-chromium-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  const outside: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  const errors = new Map<Page, string[]>();
  return {
    context,
    outside,
    errorsOf: (page) => errors.get(page) ?? [],
    async newPage() {
      const page = await context.newPage();
      const list: string[] = [];
      errors.set(page, list);
      page.on("console", (m) => {
        if (m.type() === "error") list.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => list.push(`uncaught: ${e.message}`));
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
