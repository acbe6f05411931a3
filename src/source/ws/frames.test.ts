import { describe, expect, test } from "bun:test";
import {
  clientControlFrame,
  closePayload,
  WsClose,
  WsFrameReader,
  WsOpcode,
  WsProtocolError,
} from "./frames.ts";

/** A server frame (unmasked) with the length in the smallest encoding, or as told. */
function frame(op: number, payload: Uint8Array, fin = true, lenBytes?: 0 | 2 | 8, rsv = 0): Buffer {
  const n = payload.length;
  const enc = lenBytes ?? (n < 126 ? 0 : n < 65536 ? 2 : 8);
  const head = Buffer.alloc(2 + enc);
  head[0] = (fin ? 0x80 : 0) | rsv | op;
  if (enc === 0) head[1] = n;
  else if (enc === 2) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    head.writeUInt32BE(n >>> 0, 6);
  }
  return Buffer.concat([head, payload]);
}

const text = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

interface Got {
  texts: string[];
  binaries: number[][];
  pings: string[];
  pongs: number;
  closes: [number, string][];
}

function reader(max = 1 << 20): { r: WsFrameReader; got: Got } {
  const got: Got = { texts: [], binaries: [], pings: [], pongs: 0, closes: [] };
  const r = new WsFrameReader(
    {
      text: (b, s, e) => got.texts.push(b.toString("utf8", s, e)),
      binary: (b) => got.binaries.push([...b]),
      ping: (p) => got.pings.push(Buffer.from(p).toString()),
      pong: () => got.pongs++,
      close: (code, reason) => got.closes.push([code, reason]),
    },
    max,
  );
  return { r, got };
}

/** A stream of every kind of frame K2 can meet, in one buffer. */
function mixed(): { bytes: Buffer; texts: string[] } {
  const texts = ["a", "x".repeat(125), "y".repeat(126), "z".repeat(70_000), '{"p":"é€😀"}', ""];
  const parts = texts.map((t) => frame(WsOpcode.text, text(t)));
  parts.splice(2, 0, frame(WsOpcode.ping, text("hb")));
  parts.push(frame(WsOpcode.binary, new Uint8Array([1, 2, 3])));
  // A fragmented message with a ping between its fragments (allowed: control frames interleave).
  parts.push(frame(WsOpcode.text, text("frag-"), false));
  parts.push(frame(WsOpcode.ping, text("in-between")));
  parts.push(frame(WsOpcode.continuation, text("ment"), false));
  parts.push(frame(WsOpcode.continuation, text("ed"), true));
  parts.push(frame(WsOpcode.text, text("eight"), true, 8));
  parts.push(frame(WsOpcode.pong, new Uint8Array(0)));
  parts.push(frame(WsOpcode.close, closePayload(1001, "going away")));
  return { bytes: Buffer.concat(parts), texts: [...texts, "frag-mented", "eight"] };
}

describe("WsFrameReader", () => {
  test("every frame kind, in order, whole or split at every byte boundary", () => {
    const { bytes, texts } = mixed();
    const cuts = [bytes.length, 1, 2, 3, 7, 125, 4096, 65_537];
    for (const size of cuts) {
      const { r, got } = reader();
      for (let i = 0; i < bytes.length; i += size) r.push(bytes.subarray(i, i + size));
      expect(got.texts).toEqual(texts);
      expect(got.binaries).toEqual([[1, 2, 3]]);
      expect(got.pings).toEqual(["hb", "in-between"]);
      expect(got.pongs).toBe(1);
      expect(got.closes).toEqual([[1001, "going away"]]);
    }
    // Two-chunk splits at every boundary of the small frames' region.
    const small = Buffer.concat([
      frame(WsOpcode.text, text("abc")),
      frame(WsOpcode.text, text("d".repeat(300))),
    ]);
    for (let cut = 0; cut <= small.length; cut++) {
      const { r, got } = reader();
      r.push(small.subarray(0, cut));
      r.push(small.subarray(cut));
      expect(got.texts).toEqual(["abc", "d".repeat(300)]);
    }
  });

  test("a push past its deadline stops after whole frames and keeps the rest, in order, for resume or the next push", () => {
    const { r, got } = reader();
    const frames = Array.from({ length: 200 }, (_, i) => frame(WsOpcode.text, text(`f${i}`)));
    const last = frame(WsOpcode.text, text("tail"));
    // A deadline already past: the clock is read every 64 frames, so each slice is 64 frames.
    expect(r.push(Buffer.concat([...frames, last.subarray(0, 3)]), 0)).toBe(false);
    expect(got.texts).toHaveLength(64);
    expect(r.resume(0)).toBe(false);
    expect(got.texts).toHaveLength(128);
    // The next chunk goes after what is kept, never before it.
    expect(r.push(last.subarray(3))).toBe(true);
    expect(got.texts).toEqual([...frames.map((_, i) => `f${i}`), "tail"]);
    expect(r.resume(0)).toBe(true); // nothing left
    // A slice that ends on the chunk's last frame is not a stop.
    const { r: r2, got: got2 } = reader();
    expect(r2.push(Buffer.concat(frames.slice(0, 64)), 0)).toBe(true);
    expect(got2.texts).toHaveLength(64);
  });

  test("a close frame without a status reads as 1005; with one byte it is refused", () => {
    const { r, got } = reader();
    r.push(frame(WsOpcode.close, new Uint8Array(0)));
    expect(got.closes).toEqual([[WsClose.noStatus, ""]]);
    expect(() => reader().r.push(frame(WsOpcode.close, new Uint8Array([3])))).toThrow(WsProtocolError);
  });

  test("protocol violations fail with the RFC's close code", () => {
    const cases: [string, Buffer, number][] = [
      ["masked server frame", Buffer.from([0x81, 0x80 | 1, 1, 2, 3, 4, 0x61]), WsClose.protocolError],
      [
        "RSV1 without an extension",
        frame(WsOpcode.text, text("a"), true, undefined, 0x40),
        WsClose.protocolError,
      ],
      ["unknown data opcode", frame(3, text("a")), WsClose.protocolError],
      ["unknown control opcode", frame(11, text("a")), WsClose.protocolError],
      ["fragmented ping", frame(WsOpcode.ping, text("a"), false), WsClose.protocolError],
      ["ping over 125 bytes", frame(WsOpcode.ping, text("p".repeat(126))), WsClose.protocolError],
      ["continuation with no message", frame(WsOpcode.continuation, text("a")), WsClose.protocolError],
      [
        "new message inside a fragmented one",
        Buffer.concat([frame(WsOpcode.text, text("a"), false), frame(WsOpcode.text, text("b"))]),
        WsClose.protocolError,
      ],
      ["frame over the limit", frame(WsOpcode.text, text("q".repeat(101))), WsClose.tooBig],
      [
        "fragments over the limit",
        Buffer.concat([
          frame(WsOpcode.text, text("q".repeat(60)), false),
          frame(WsOpcode.continuation, text("q".repeat(60))),
        ]),
        WsClose.tooBig,
      ],
    ];
    for (const [name, bytes, code] of cases) {
      const { r } = reader(100);
      let err: unknown;
      try {
        r.push(bytes);
      } catch (e) {
        err = e;
      }
      expect({ name, err: err instanceof WsProtocolError ? err.code : String(err) }).toEqual({
        name,
        err: code,
      });
    }
  });

  test("a frame over the limit is refused from its header, before its bytes arrive", () => {
    const { r } = reader(1000);
    const head = frame(WsOpcode.text, new Uint8Array(5000)).subarray(0, 4);
    expect(() => r.push(head)).toThrow("5000 bytes over the 1000-byte limit");
  });
});

describe("client frames", () => {
  test("masked, FIN set, payload recoverable with the key; close payload = code + reason", () => {
    const payload = closePayload(1000, "rotated");
    const f = clientControlFrame(WsOpcode.close, payload);
    expect(f[0]).toBe(0x80 | WsOpcode.close);
    expect(f[1]).toBe(0x80 | payload.length);
    const key = f.subarray(2, 6);
    const unmasked = f.subarray(6).map((b, i) => b ^ key[i & 3]!);
    expect(Buffer.from(unmasked).readUInt16BE(0)).toBe(1000);
    expect(Buffer.from(unmasked.subarray(2)).toString()).toBe("rotated");
    expect(() => clientControlFrame(WsOpcode.ping, new Uint8Array(126))).toThrow(RangeError);
  });
});
