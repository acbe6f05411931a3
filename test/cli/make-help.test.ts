/** Issue 16, defect 12: `make help` prints the values of the variables its lines mention. */
import { expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { ROOT } from "../support/k2-process.ts";

test("make help expands $(BUN_VERSION) and $(IMAGE) to their values", () => {
  const r = Bun.spawnSync(["make", "--no-print-directory", "help", "IMAGE=k2:help-test"], { cwd: ROOT });
  const out = r.stdout.toString();
  expect(r.exitCode).toBe(0);
  expect(out).not.toContain("$(");
  expect(out).toMatch(new RegExp(`bootstrap +find or install Bun ${pkg.engines.bun.replace(/\./g, "\\.")},`));
  expect(out).toContain("build the image k2:help-test (");
});
