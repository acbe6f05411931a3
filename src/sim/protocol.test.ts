import { describe, expect, test } from "bun:test";
import { handleControl, parseConnectUrl, parseStreamName } from "./protocol.ts";

const state = (streams: string[] = [], combined = false) => ({ streams: new Set(streams), combined });

describe("stream names", () => {
  test("lower-case symbol, Binance kind spelling", () => {
    expect(parseStreamName("btcusdt@trade")).toEqual({
      name: "btcusdt@trade",
      symbol: "BTCUSDT",
      kind: "trade",
    });
    expect(parseStreamName("ethusdt@aggTrade")?.kind).toBe("aggTrade");
    expect(parseStreamName("bnbusdt@bookTicker")?.symbol).toBe("BNBUSDT");
    expect(parseStreamName("BTCUSDT@trade")).toBeNull();
    expect(parseStreamName("btcusdt@aggtrade")).toBeNull();
    expect(parseStreamName("btcusdt@depth7")).toBeNull();
    expect(parseStreamName("btcusdt@depth@250ms")).toBeNull();
    for (const k of ["depth", "depth@100ms", "depth5", "depth10@100ms", "depth20"])
      expect(parseStreamName(`btcusdt@${k}`)?.kind).toBe(k as never);
  });

  test("depth streams only in book mode: refused with the reason otherwise", () => {
    const url = new URL("ws://h/stream?streams=btcusdt@trade/btcusdt@depth@100ms");
    expect(parseConnectUrl(url, 1024)).toContain("needs the simulator's book mode");
    expect(parseConnectUrl(url, 1024, true)).toMatchObject({ streams: [{}, { kind: "depth@100ms" }] });
    const sub = '{"method":"SUBSCRIBE","params":["btcusdt@depth5"],"id":1}';
    expect(JSON.parse(handleControl(sub, state(), 1024).reply)).toMatchObject({ code: 2, id: 1 });
    expect(handleControl(sub, state(), 1024).reply).toContain("book mode");
    expect(handleControl(sub, state(), 1024, true).subscribe?.[0]?.kind).toBe("depth5");
  });

  test("URL forms and timeUnit", () => {
    const u = (p: string) => parseConnectUrl(new URL(`ws://h${p}`), 1024);
    expect(u("/ws/btcusdt@trade")).toMatchObject({
      combined: false,
      micros: false,
      streams: [{ symbol: "BTCUSDT" }],
    });
    expect(u("/ws")).toMatchObject({ combined: false, streams: [] });
    expect(u("/stream?streams=a1@trade/b1@aggTrade&timeUnit=MICROSECOND")).toMatchObject({
      combined: true,
      micros: true,
      streams: [{ name: "a1@trade" }, { name: "b1@aggTrade" }],
    });
    expect(u("/stream?timeUnit=microsecond")).toMatchObject({ combined: true, micros: true, streams: [] });
    expect(u("/ws/x@nope")).toContain("Invalid stream name");
    expect(u("/ws?timeUnit=NANO")).toContain("timeUnit");
    expect(u("/other")).toContain("Unknown path");
    expect(parseConnectUrl(new URL("ws://h/stream?streams=a1@trade/b1@trade"), 1)).toContain(
      "Too many streams",
    );
  });
});

describe("control messages (Binance replies and error codes)", () => {
  test("SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS", () => {
    const sub = handleControl('{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}', state(), 1024);
    expect(sub.reply).toBe('{"result":null,"id":1}');
    expect(sub.subscribe?.map((r) => r.name)).toEqual(["btcusdt@trade"]);
    const un = handleControl('{"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":"x"}', state(), 1024);
    expect(un.reply).toBe('{"result":null,"id":"x"}');
    expect(un.unsubscribe).toEqual(["btcusdt@trade"]);
    const list = handleControl(
      '{"method":"LIST_SUBSCRIPTIONS","id":3}',
      state(["a1@trade", "b1@trade"]),
      1024,
    );
    expect(list.reply).toBe('{"result":["a1@trade","b1@trade"],"id":3}');
  });

  test("SET_PROPERTY / GET_PROPERTY combined", () => {
    const set = handleControl('{"method":"SET_PROPERTY","params":["combined",true],"id":5}', state(), 1024);
    expect(set).toEqual({ reply: '{"result":null,"id":5}', combined: true });
    expect(
      handleControl('{"method":"GET_PROPERTY","params":["combined"],"id":2}', state([], true), 1024).reply,
    ).toBe('{"result":true,"id":2}');
  });

  test.each([
    ["{not json", 3, null],
    ['{"method":"SET_PROPERTY","params":["nope",true],"id":4}', 0, 4],
    ['{"method":"SET_PROPERTY","params":["combined","yes"],"id":4}', 1, 4],
    ['{"method":"SET_PROPERTY","params":[1,true],"id":4}', 2, 4],
    ['{"method":"FLY","id":6}', 2, 6],
    ['{"params":[],"id":6}', 2, 6],
    ['{"method":"SUBSCRIBE","params":"btcusdt@trade","id":7}', 2, 7],
    ['{"method":"SUBSCRIBE","params":["btcusdt@nope"],"id":7}', 2, 7],
    ['{"method":"SUBSCRIBE","params":[],"id":-1}', 2, null],
    ["[1,2]", 2, null],
  ])("%s → code %p", (text, code, id) => {
    const out = JSON.parse(handleControl(text, state(), 1024).reply);
    expect(out.code).toBe(code);
    expect(out.id).toBe(id);
    expect(typeof out.msg).toBe("string");
  });

  test("1024-stream cap counts existing subscriptions", () => {
    const out = handleControl(
      '{"method":"SUBSCRIBE","params":["c1@trade","d1@trade"],"id":1}',
      state(["a1@trade"]),
      2,
    );
    expect(JSON.parse(out.reply)).toMatchObject({ code: 2, id: 1 });
    expect(out.subscribe).toBeUndefined();
  });
});
