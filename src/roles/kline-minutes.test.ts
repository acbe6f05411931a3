import { expect, test } from "bun:test";
import { MINUTE_US, QueuedMinutes } from "./kline-minutes.ts";

const T0 = Date.UTC(2025, 0, 2, 12) * 1000;

test("the first kline of a symbol this run, and one after missing minutes, say a hole may be before them", () => {
  const q = new QueuedMinutes();
  expect(q.note("BTCUSDT", T0)).toBe("after_hole");
  expect(q.note("BTCUSDT", T0 + MINUTE_US)).toBe("next");
  expect(q.note("ETHUSDT", T0 + MINUTE_US)).toBe("after_hole");
  // Minutes T0+2 and T0+3 never came: the kline at T0+4 reveals them.
  expect(q.note("BTCUSDT", T0 + 4 * MINUTE_US)).toBe("after_hole");
  // A late copy of a minute inside the hole is judged live (and is no hole itself).
  expect(q.note("BTCUSDT", T0 + 2 * MINUTE_US)).toBe("next");
  expect(q.has("BTCUSDT", T0 + 2 * MINUTE_US)).toBe(true);
  expect(q.has("BTCUSDT", T0 + 3 * MINUTE_US)).toBe(false);
});

test("the other recorder's copy of a queued minute is a copy, per symbol", () => {
  const q = new QueuedMinutes();
  q.note("BTCUSDT", T0);
  expect(q.note("BTCUSDT", T0)).toBe("copy");
  expect(q.note("ETHUSDT", T0)).toBe("after_hole");
  // A missed minute queued from REST: its kline arriving later is a copy.
  q.add("BTCUSDT", T0 - MINUTE_US);
  expect(q.note("BTCUSDT", T0 - MINUTE_US)).toBe("copy");
  expect(q.note("BTCUSDT", T0 + MINUTE_US)).toBe("next");
  // Its REST fetch failed: forgotten, so its kline is judged live after all.
  q.add("BTCUSDT", T0 - 2 * MINUTE_US);
  q.forget("BTCUSDT", T0 - 2 * MINUTE_US);
  expect(q.note("BTCUSDT", T0 - 2 * MINUTE_US)).toBe("next");
});

test("bounded: the oldest minutes are forgotten past `keep`", () => {
  const q = new QueuedMinutes(3);
  for (let i = 0; i < 5; i++) q.note("BTCUSDT", T0 + i * MINUTE_US);
  expect(q.has("BTCUSDT", T0)).toBe(false);
  expect(q.has("BTCUSDT", T0 + MINUTE_US)).toBe(false);
  expect(q.has("BTCUSDT", T0 + 4 * MINUTE_US)).toBe(true);
});
