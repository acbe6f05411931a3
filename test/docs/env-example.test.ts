/** Issue 16 friction: .env.example lists every key with its default, generated from the key table. */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { ENV_EXAMPLE_PATH, renderEnvExample } from "../../src/config/env-example.ts";
import { KEYS, loadConfig } from "../../src/config/index.ts";

test(".env.example equals what `bun run src/config/env-example.ts` generates (run it after changing a key)", () => {
  expect(existsSync(ENV_EXAMPLE_PATH)).toBe(true);
  expect(readFileSync(ENV_EXAMPLE_PATH, "utf8")).toBe(renderEnvExample());
});

test("every key is set to its default, and the file as an environment gives the default config", () => {
  const env: Record<string, string> = {};
  for (const line of renderEnvExample().split("\n")) {
    const m = /^(K2_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  expect(Object.keys(env).sort()).toEqual(
    Object.values(KEYS)
      .map((d) => d.env)
      .sort(),
  );
  for (const d of Object.values(KEYS)) expect([d.env, env[d.env]]).toEqual([d.env, d.default]);
  const fromFile = loadConfig([], env);
  const defaults = loadConfig([], {});
  expect(fromFile).toEqual(defaults);
});
