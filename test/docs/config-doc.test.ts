/** docs/configuration.md is generated from src/config/keys.ts: it must not drift from the code. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { DOC_PATH, renderConfigDoc } from "../../scripts/gen-config-doc.ts";
import { KEYS } from "../../src/config/index.ts";

test("docs/configuration.md equals what `make config-doc` generates (run it after changing a key)", () => {
  expect(readFileSync(DOC_PATH, "utf8")).toBe(renderConfigDoc());
});

test("every key appears with its env name, flag and default", () => {
  const doc = renderConfigDoc();
  for (const d of Object.values(KEYS)) {
    expect(doc).toContain(`| \`${d.env}\` |`);
  }
  expect(doc).toContain("| `K2_PORT` | `--port` | TCP port | `8000` | an integer in 0..65535 |");
});
