import { describe, expect, test } from "bun:test";
import { ConfigError, describeConfig, flagName, helpText, KEYS, type KeyName, loadConfig } from "./index.ts";

function cfg(argv: string[] = [], env: Record<string, string> = {}) {
  const r = loadConfig(argv, env);
  if (r.kind !== "config") throw new Error("expected a config");
  return r.config;
}

function rejection(argv: string[], env: Record<string, string>): ConfigError {
  try {
    loadConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  test("defaults", () => {
    const c = cfg();
    expect(c.port).toBe(8000);
    expect(c.host).toBe("127.0.0.1");
    expect(c.dataDir).toBe("./data");
    expect(c.symbols).toEqual(["BTCUSDT", "ETHUSDT", "BNBUSDT"]);
    expect(c.streams).toEqual(["trade", "aggTrade", "bookTicker", "kline"]);
    expect(c.source).toBe("binance");
    expect(c.binanceWsUrl).toBe("wss://data-stream.binance.vision");
    expect(c.binanceRestUrl).toBe("https://data-api.binance.vision");
    expect(c.logLevel).toBe("info");
    expect(c.ringCapacity).toBe(65536);
  });

  test("flag > env > default", () => {
    expect(cfg([], { K2_PORT: "9001" }).port).toBe(9001);
    expect(cfg(["--port", "9002"], { K2_PORT: "9001" }).port).toBe(9002);
    expect(cfg(["--port=9003"], { K2_PORT: "9001" }).port).toBe(9003);
    expect(cfg([], { K2_SOURCE: "sim" }).source).toBe("sim");
    expect(cfg(["--symbols", "SOLUSDT, btcusdt".toUpperCase()]).symbols).toEqual(["SOLUSDT", "BTCUSDT"]);
    // An empty environment value means "unset", not "empty".
    expect(cfg([], { K2_PORT: "" }).port).toBe(8000);
    expect(cfg([], { K2_GC_INTERVAL_MS: "0" }).gcIntervalMs).toBe(0);
    expect(cfg([], { K2_GC_INTERVAL_MS: "1000" }).gcIntervalMs).toBe(1000);
  });

  test("the result is frozen, lists included", () => {
    const c = cfg();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.symbols)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow();
  });

  const bad: [string, string, RegExp][] = [
    ["K2_PORT", "99999", /integer in 0\.\.65535/],
    ["K2_PORT", "80a", /integer/],
    ["K2_PORT", "-1", /integer/],
    ["K2_HOST", "bad host!", /hostname or IP/],
    ["K2_SYMBOLS", "btcusdt", /symbols like BTCUSDT/],
    ["K2_SYMBOLS", "BTC-USDT", /symbols like BTCUSDT/],
    ["K2_SYMBOLS", ",", /symbols like BTCUSDT/],
    ["K2_STREAMS", "trade,depth5", /stream kinds/],
    ["K2_SOURCE", "kraken", /binance\|sim/],
    ["K2_BINANCE_WS_URL", "http://x", /ws or wss/],
    ["K2_BINANCE_WS_URL", "not a url", /ws or wss/],
    ["K2_BINANCE_REST_URL", "ftp://x", /http or https/],
    ["K2_LOG_LEVEL", "loud", /one of trace/],
    ["K2_RING_CAPACITY", "1000", /power of two/],
    ["K2_RING_CAPACITY", "512", /power of two/],
    ["K2_SHUTDOWN_GRACE_MS", "1e3", /integer/],
    ["K2_DATA_DIR", "  ", /non-empty/],
    // A full collection every few ms would stall the event loop: 0 (off) or at least a second.
    ["K2_GC_INTERVAL_MS", "500", /0 \(off\) or an integer in 1000\.\.3600000/],
    ["K2_GC_INTERVAL_MS", "-1", /0 \(off\)/],
  ];
  for (const [key, value, expected] of bad) {
    test(`rejects ${key}=${JSON.stringify(value)} naming key, value and expectation`, () => {
      const e = rejection([], { [key]: value });
      expect(e.key).toBe(key);
      expect(e.value).toBe(value);
      expect(e.message).toMatch(expected);
      expect(e.message).toContain(key);
      expect(e.message.split("\n")).toHaveLength(1);
    });
  }

  test("a bad flag names the flag", () => {
    const e = rejection(["--port", "70000"], {});
    expect(e.key).toBe("--port");
    expect(e.message).toContain("70000");
  });

  test("unknown flags and a flag without value are rejected", () => {
    expect(rejection(["--nope", "1"], {}).message).toContain("--nope");
    // One sentence with the nearest flag, not the list of every flag.
    expect(rejection(["--prot", "1"], {}).message).toBe(
      'unknown argument "--prot": did you mean --port? (k2 --help lists every flag and command)',
    );
    expect(rejection(["--port"], {}).message).toContain("value after the flag");
  });

  test("--help lists every key with unit and default", () => {
    const r = loadConfig(["--help"], { K2_PORT: "99999" });
    expect(r.kind).toBe("help");
    const text = r.kind === "help" ? r.text : "";
    expect(text).toBe(helpText());
    for (const k of Object.keys(KEYS) as KeyName[]) {
      const line = text.split("\n").find((l) => l.includes(` ${KEYS[k].env} `));
      expect(line).toBeDefined();
      expect(line).toContain(`[${KEYS[k].unit}]`);
      expect(line).toContain(`default: ${KEYS[k].default}`);
      expect(line).toContain(flagName(KEYS[k].env));
    }
  });

  test("every default parses", () => {
    for (const k of Object.keys(KEYS) as KeyName[]) {
      expect((KEYS[k].parse as (s: string) => { ok: boolean })(KEYS[k].default).ok).toBe(true);
    }
  });
});

describe("cross-key rules", () => {
  test("a non-loopback host needs API keys", () => {
    const e = rejection([], { K2_HOST: "0.0.0.0" });
    expect(e.key).toBe("K2_API_KEYS");
    expect(e.message).toContain("K2_HOST=0.0.0.0");
    const ok = loadConfig([], { K2_HOST: "0.0.0.0", K2_API_KEYS: "abcdefghijklmnop1234" });
    expect(ok.kind === "config" && ok.config.apiKeys).toEqual(["abcdefghijklmnop1234"]);
  });

  test("API keys are validated and masked when the config is described", () => {
    expect(rejection([], { K2_API_KEYS: "short" }).key).toBe("K2_API_KEYS");
    const c = cfg([], { K2_API_KEYS: "abcdefghijklmnop1234,qrstuvwxyz0123456789" });
    expect(describeConfig(c).K2_API_KEYS).toBe("***");
    expect(JSON.stringify(describeConfig(c))).not.toContain("abcdefghijklmnop1234");
  });

  test("issue 16, defect 15: unset API keys are described as none, not ***", () => {
    expect(describeConfig(cfg([], {})).K2_API_KEYS).toBe("none");
  });

  test("issue 16, defect 16: a rejected key list is never echoed; the entry is named by position and length", () => {
    const good = "abcdefghijklmnop1234";
    const bad = "sh0rt-secret";
    for (const [argv, env, where] of [
      [[], { K2_API_KEYS: `${good},${bad},${good}x` }, "K2_API_KEYS"],
      [["--api-keys", `${good},${bad},${good}x`], {}, "--api-keys"],
    ] as const) {
      const e = rejection([...argv], env);
      expect(e.message).not.toContain(bad);
      expect(e.message).not.toContain(good);
      expect(JSON.stringify(e)).not.toContain(good);
      expect(e.value).toBe("");
      expect(e.message).toBe(
        `invalid ${where} (value not shown): entry 2 of 3 has 12 characters; each key needs 16 to 256 of A-Z a-z 0-9 . _ ~ + / = -`,
      );
    }
    const e = rejection([], { K2_API_KEYS: `${good},${"é".repeat(20)}` });
    expect(e.message).toBe(
      "invalid K2_API_KEYS (value not shown): entry 2 of 2 (20 characters) holds a character other than A-Z a-z 0-9 . _ ~ + / = -",
    );
  });

  test("K2_METRICS_PUBLIC is a boolean, false by default", () => {
    expect(cfg([], {}).metricsPublic).toBe(false);
    expect(cfg([], { K2_METRICS_PUBLIC: "true" }).metricsPublic).toBe(true);
    expect(rejection([], { K2_METRICS_PUBLIC: "yes please" }).message).toBe(
      'invalid K2_METRICS_PUBLIC="yes please": expected true or false',
    );
  });

  test("reconnect cap below its base is rejected", () => {
    expect(rejection([], { K2_RECONNECT_BASE_MS: "5000", K2_RECONNECT_MAX_MS: "1000" }).key).toBe(
      "K2_RECONNECT_MAX_MS",
    );
  });

  test("kline needs trade: the klines are checked against the stored trades", () => {
    const e = rejection([], { K2_STREAMS: "bookTicker,kline" });
    expect(e.key).toBe("K2_STREAMS");
    expect(e.message).toContain("trade listed too when kline is");
    expect(cfg([], { K2_STREAMS: "trade,kline" }).streams).toEqual(["trade", "kline"]);
    expect(cfg([], { K2_STREAMS: "trade" }).streams).toEqual(["trade"]);
  });

  test("depth20 needs depth; book keys bounded; depth is off by default", () => {
    const e = rejection([], { K2_STREAMS: "trade,kline,depth20" });
    expect(e.key).toBe("K2_STREAMS");
    expect(e.message).toContain("depth listed too when depth20 is");
    expect(cfg([], { K2_STREAMS: "depth,depth20" }).streams).toEqual(["depth", "depth20"]);
    expect(cfg([], {}).streams).not.toContain("depth");
    expect(rejection([], { K2_BOOK_SNAPSHOT_LIMIT: "5001" }).key).toBe("K2_BOOK_SNAPSHOT_LIMIT");
    expect(rejection([], { K2_BOOK_LEVELS: "257" }).key).toBe("K2_BOOK_LEVELS");
    expect(rejection([], { K2_BOOK_CHECKPOINT_MS: "1500" }).message).toContain("whole seconds");
    const c = cfg([], {});
    expect([c.bookSnapshotLimit, c.bookSnapshotMs, c.bookLevels, c.bookCheckpointMs]).toEqual([
      1000, 1000, 20, 60000,
    ]);
  });

  test("CORS origins", () => {
    expect(cfg([], { K2_CORS_ORIGINS: "https://a.example,*" }).corsOrigins).toEqual([
      "https://a.example",
      "*",
    ]);
    expect(rejection([], { K2_CORS_ORIGINS: "javascript:alert(1)" }).key).toBe("K2_CORS_ORIGINS");
  });
});
