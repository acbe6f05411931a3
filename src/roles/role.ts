/**
 * What src/main.ts needs of a role other than `all` (src/pipeline/index.ts): its metrics and
 * readiness to serve, a query engine where it answers /v1, and a stop that drains it.
 */
import type { BookApi } from "../book/api.ts";
import type { Certificate, CertTable } from "../completeness/index.ts";
import type { Role } from "../config/cluster-keys.ts";
import type { Registry } from "../obs/index.ts";
import type { QueryEngine } from "../query/engine.ts";
import type { DegradationManager } from "../resilience/degradation.ts";
import type { Readiness } from "../resilience/readiness.ts";

export interface RoleProcess {
  readonly role: Exclude<Role, "all">;
  readonly registry: Registry;
  readonly readiness: Readiness;
  readonly engine?: QueryEngine;
  readonly degradation?: DegradationManager;
  /** Order books for /v1/book (a query node: the stored ones, src/roles/stored-books.ts). */
  readonly books?: BookApi;
  /** Completeness certificates for /v1/completeness (a query node: from the shared folder). */
  certify?(table: CertTable, symbol: string, date: string, spotPages: number): Promise<Certificate>;
  stop(): Promise<void>;
}
