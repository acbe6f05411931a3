import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { DEAD_LETTER_MAX_STATUS, DeadLetterBuffer } from "./dead-letter.ts";

const MALFORMED = 13;
const TRUNCATED = 4;

describe("DeadLetterBuffer", () => {
  test("keeps frames as given with status, receive time and label; bytes are copied", () => {
    const dl = new DeadLetterBuffer({ maxEntries: 4, maxBytes: 100 });
    const bytes = new Uint8Array([0x7b, 0xff, 0x7d]);
    dl.push('{"e":"trade"', TRUNCATED, 1_700_000_000_000_000, "conn-1");
    dl.push(bytes, 11, 1_700_000_000_000_001);
    bytes[1] = 0; // the caller reuses its buffer
    expect(dl.size).toBe(2);
    expect(dl.bytes).toBe(12 + 3);
    const [a, b] = dl.drain();
    expect(a).toEqual({
      frame: '{"e":"trade"',
      status: TRUNCATED,
      recv_time_us: 1_700_000_000_000_000,
      label: "conn-1",
      truncated_from: 0,
    });
    expect(b?.frame).toEqual(new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(b?.label).toBe("");
    expect(dl.received[TRUNCATED]).toBe(1);
    expect(dl.received[11]).toBe(1);
    expect(dl.size).toBe(0);
    expect(dl.bytes).toBe(0);
    expect(dl.drained).toBe(2);
  });

  test("count bound: the oldest entries are evicted and counted per status", () => {
    const dl = new DeadLetterBuffer({ maxEntries: 3, maxBytes: 1000 });
    dl.push("a", TRUNCATED, 1);
    dl.push("b", MALFORMED, 2);
    dl.push("c", MALFORMED, 3);
    dl.push("d", MALFORMED, 4);
    dl.push("e", MALFORMED, 5);
    expect(dl.peek().map((e) => e.frame)).toEqual(["c", "d", "e"]);
    expect(dl.droppedFromBuffer[TRUNCATED]).toBe(1);
    expect(dl.droppedFromBuffer[MALFORMED]).toBe(1);
    expect(dl.droppedTotal).toBe(2);
    expect(dl.received[MALFORMED]).toBe(4);
  });

  test("byte bound: evicts as many old entries as the new frame needs", () => {
    const dl = new DeadLetterBuffer({ maxEntries: 100, maxBytes: 10 });
    dl.push("aaaa", MALFORMED, 1);
    dl.push("bbbb", MALFORMED, 2);
    dl.push("cc", MALFORMED, 3);
    expect(dl.bytes).toBe(10);
    dl.push("dddddddd", MALFORMED, 4); // needs 8: evicts aaaa and bbbb
    expect(dl.peek().map((e) => e.frame)).toEqual(["cc", "dddddddd"]);
    expect(dl.bytes).toBe(10);
    expect(dl.droppedFromBuffer[MALFORMED]).toBe(2);
  });

  test("a frame longer than the whole budget keeps its prefix and its original length", () => {
    const dl = new DeadLetterBuffer({ maxEntries: 10, maxBytes: 8 });
    dl.push("x", MALFORMED, 1);
    dl.push("0123456789abcdef", 12, 2);
    dl.push(new Uint8Array(20).fill(7), 12, 3);
    const held = dl.peek();
    expect(held).toHaveLength(1);
    expect(held[0]?.frame).toEqual(new Uint8Array(8).fill(7));
    expect(held[0]?.truncated_from).toBe(20);
    expect(dl.truncated).toBe(2);
    expect(dl.droppedFromBuffer[MALFORMED]).toBe(1);
    expect(dl.droppedFromBuffer[12]).toBe(1);
    const dl2 = new DeadLetterBuffer({ maxEntries: 10, maxBytes: 8 });
    dl2.push("0123456789abcdef", 12, 2);
    expect(dl2.peek()[0]).toMatchObject({ frame: "01234567", truncated_from: 16 });
  });

  test("drain(max) hands the oldest entries first and leaves the rest", () => {
    const dl = new DeadLetterBuffer({ maxEntries: 4, maxBytes: 100 });
    for (let i = 0; i < 6; i++) dl.push(`f${i}`, MALFORMED, i);
    expect(dl.drain(3).map((e) => e.recv_time_us)).toEqual([2, 3, 4]);
    expect(dl.drain(0)).toEqual([]);
    dl.push("f6", MALFORMED, 6);
    expect(dl.drain().map((e) => e.frame)).toEqual(["f5", "f6"]);
    expect(dl.drained).toBe(5);
    expect(dl.droppedTotal).toBe(2);
  });

  test("rejects bad options and statuses outside the counter range", () => {
    expect(() => new DeadLetterBuffer({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new DeadLetterBuffer({ maxBytes: 1.5 })).toThrow(/maxBytes/);
    const dl = new DeadLetterBuffer();
    expect(() => dl.push("x", DEAD_LETTER_MAX_STATUS + 1, 0)).toThrow(RangeError);
    expect(() => dl.push("x", -1, 0)).toThrow(RangeError);
    dl.push("x", DEAD_LETTER_MAX_STATUS, 0);
    expect(dl.received[DEAD_LETTER_MAX_STATUS]).toBe(1);
  });

  test("property: bounds always hold and every frame is either held, drained or counted dropped", () => {
    const step = fc.oneof(
      fc.record({ push: fc.string({ maxLength: 12 }), status: fc.nat(DEAD_LETTER_MAX_STATUS) }),
      fc.record({ drain: fc.nat(5) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(step),
        (maxE, maxB, steps) => {
          const dl = new DeadLetterBuffer({ maxEntries: maxE, maxBytes: maxB });
          let pushed = 0;
          let drained = 0;
          let t = 0;
          for (const s of steps) {
            if ("push" in s) {
              dl.push(s.push, s.status, t++);
              pushed++;
            } else {
              const out = dl.drain(s.drain);
              // Oldest first: receive times increase.
              for (let i = 1; i < out.length; i++)
                if (out[i]!.recv_time_us <= out[i - 1]!.recv_time_us) return false;
              drained += out.length;
            }
            if (dl.size > maxE || dl.bytes > maxB) return false;
            const held = dl.peek();
            if (held.reduce((n, e) => n + e.frame.length, 0) !== dl.bytes) return false;
          }
          const received = dl.received.reduce((a, b) => a + b, 0);
          return received === pushed && pushed === dl.size + drained + dl.droppedTotal;
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
