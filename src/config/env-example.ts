#!/usr/bin/env bun
/**
 * `.env.example` from the key table (keys.ts): every key with its default and what it means, so
 * the example cannot drift from the code (test/docs/env-example.test.ts compares the committed
 * file). Regenerate after changing a key: bun run src/config/env-example.ts
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { KEYS, type KeyName } from "./keys.ts";

export const ENV_EXAMPLE_PATH = join(resolve(import.meta.dir, "../.."), ".env.example");

export function renderEnvExample(): string {
  const lines = [
    "# K2 configuration: every key with its default. Copy to .env (Bun reads it at start) and",
    "# change what you need; an empty value counts as unset. Flags (--port 8001) win over these.",
    "# Generated from src/config/keys.ts by `bun run src/config/env-example.ts`: do not edit by hand.",
    "# Reference with accepted values: docs/configuration.md",
  ];
  for (const k of Object.keys(KEYS) as KeyName[]) {
    const d = KEYS[k];
    lines.push("", `# ${d.description} [${d.unit}]`, `${d.env}=${d.default}`);
  }
  return `${lines.join("\n")}\n`;
}

if (import.meta.main) {
  writeFileSync(ENV_EXAMPLE_PATH, renderEnvExample());
  console.log(`wrote ${ENV_EXAMPLE_PATH} (${Object.keys(KEYS).length} keys)`);
}
