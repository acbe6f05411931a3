import { KEYS, type KeyName, type KeyValues } from "./keys.ts";

/**
 * A key's default, parsed as a loaded Config would have it: for code used outside a loaded Config
 * (the query engine opened by a bench, a CLI tool), so a default is written once, in keys.ts.
 */
export function keyDefault<K extends KeyName>(k: K): KeyValues[K] {
  const def = KEYS[k];
  const r = (def.parse as (raw: string) => { ok: boolean; value?: unknown })(def.default);
  if (!r.ok) throw new Error(`${def.env}: its own default ${JSON.stringify(def.default)} does not parse`);
  return r.value as KeyValues[K];
}
