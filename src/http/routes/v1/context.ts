/** What every /v1 route group receives from v1Routes(deps). */
import type { BookApi } from "../../../book/api.ts";
import type { Certificate, CertTable } from "../../../completeness/index.ts";
import type { QueryEngine } from "../../../query/engine.ts";
import type { PageCache } from "./page-cache.ts";
import type { RowTextCache } from "./row-text.ts";

export interface V1Context {
  readonly engine: QueryEngine;
  /** Rows per storage page while replaying (K2_REPLAY_PAGE_ROWS). */
  readonly replayPageRows: number;
  /** Encoded row pages read from memory alone (page-cache.ts). */
  readonly pages: PageCache;
  /** JSON text of rows already sent once (row-text.ts). */
  readonly rowTexts: RowTextCache;
  /** A completeness certificate (/v1/completeness); absent where this process keeps no data. */
  readonly certify?: (
    table: CertTable,
    symbol: string,
    date: string,
    spotPages: number,
  ) => Promise<Certificate>;
  /** Order books (/v1/book); absent where no depth stream is captured. */
  readonly books?: BookApi;
}

/** Wall-clock µs for request-relative windows (trades/recent), from the engine's clock. */
export const nowUs = (ctx: V1Context): number => ctx.engine.nowUs();
