/** The order-book proof at 1,000 instants (issue 18, part 6): test/support/book-proof.ts. `make test-long`. */
import { expect, test } from "bun:test";
import { runBookProof } from "../../test/support/book-proof.ts";

test("1,000 instants: books rebuilt from K2's files equal the simulator's true books, through every depth fault", async () => {
  const r = await runBookProof({ instants: 1_000, phaseMs: 4_000, seed: 1818 });
  console.log(`book proof (1,000 instants): ${JSON.stringify(r)}`);
  expect(r.equal + r.notSynced).toBe(1_000);
}, 300_000);
