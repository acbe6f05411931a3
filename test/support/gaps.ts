/** The gap ledger as /v1/gaps serves it, for tests that read it from a K2 process. */
export interface Gap {
  gap_id: number;
  table: string;
  symbol: string;
  from_id: number;
  to_id: number;
  cause: string;
  state: string;
}

export async function gapsOf(url: string, symbol: string): Promise<Gap[]> {
  return ((await (await fetch(`${url}/v1/gaps?symbol=${symbol}`)).json()) as { data: Gap[] }).data;
}
