/** The generated fast paths are what scripts/gen-fast-decoders.ts writes (edit the script, not them). */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LAYOUTS, render } from "../../../scripts/gen-fast-decoders.ts";

test("fast-*.ts are current with scripts/gen-fast-decoders.ts", () => {
  for (const l of LAYOUTS) expect(readFileSync(join(import.meta.dir, l.file), "utf8")).toBe(render(l));
});
