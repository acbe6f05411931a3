/** The order-book proof, short (test/support/book-proof.ts says what it proves); 1,000 instants: make test-long. */
import { expect, test } from "bun:test";
import { runBookProof } from "../support/book-proof.ts";

test("books rebuilt from K2's files equal the simulator's true books at random instants, through every depth fault", async () => {
  const r = await runBookProof({ instants: 80, phaseMs: 1500, seed: 18 });
  expect(r.equal + r.notSynced).toBe(80);
  console.log(`book proof: ${JSON.stringify(r)}`);
}, 60_000);
