/** One app over the fixture: engine (hot rows appended) + /v1 routes inside the real createApp shell. */
import pino from "pino";
import { createApp } from "../../src/http/app.ts";
import type { LoadView } from "../../src/http/routes/v1/shed.ts";
import { type ApiOptions, v1Routes } from "../../src/http/routes/v1.ts";
import { GapLedger } from "../../src/ingest/gap-ledger.ts";
import { SymbolTable } from "../../src/model/symbols.ts";
import { Registry } from "../../src/obs/metrics.ts";
import { DirFileSource } from "../../src/query/dir-source.ts";
import { type EngineOptions, QueryEngine } from "../../src/query/engine.ts";
import type { FileSource } from "../../src/query/types.ts";
import { Readiness } from "../../src/resilience/readiness.ts";
import { BASE_US, buildFixture, type Fixture } from "./fixture.ts";

export interface Harness {
  readonly fx: Fixture;
  readonly engine: QueryEngine;
  readonly ledger: GapLedger;
  readonly registry: Registry;
  readonly app: { handle(r: Request): Promise<Response> };
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): void;
}

/** "Now" for the tests: shortly after the last fixture trade. */
export const NOW_US = BASE_US + 3 * 86_400_000_000;

export async function makeApp(
  fx: Fixture,
  opts: {
    api?: Partial<ApiOptions>;
    engine?: Partial<EngineOptions>;
    nowMs?: () => number;
    withHot?: boolean;
    source?: FileSource;
    load?: LoadView;
    budgetScale?: () => number;
  } = {},
) {
  const symbols = new SymbolTable(["BTCUSDT", "ETHUSDT"]);
  const ledger = new GapLedger();
  const engine = await QueryEngine.open(
    {
      source: opts.source ?? new DirFileSource(fx.dir),
      symbols,
      gaps: ledger,
      nowUs: () => NOW_US,
      ...(opts.budgetScale ? { budgetScale: opts.budgetScale } : {}),
    },
    { hotRowsPerSymbol: 20_000, ...opts.engine },
  );
  if (opts.withHot !== false) for (let i = 0; i < fx.hotRows.capacity; i++) engine.hot.append(fx.hotRows, i);
  const registry = new Registry();
  const logger = pino({ level: "silent" });
  const app = createApp({ registry, readiness: new Readiness(), logger, version: "test" }).use(
    v1Routes({
      engine,
      registry,
      options: { rateLimitBurst: 1_000_000, rateLimitPerSec: 1_000_000, ...opts.api },
      nowMs: opts.nowMs,
      ...(opts.load ? { load: opts.load } : {}),
    }),
  );
  return { engine, ledger, registry, app };
}

export async function harness(opts: Parameters<typeof makeApp>[1] = {}): Promise<Harness> {
  const fx = await buildFixture();
  const { engine, ledger, registry, app } = await makeApp(fx, opts);
  return {
    fx,
    engine,
    ledger,
    registry,
    app,
    get: (path, headers = {}) => app.handle(new Request(`http://localhost${path}`, { headers })),
    close() {
      engine.close();
      fx.close();
    },
  };
}
