/** Reading K2's /metrics in benches. */

/** One value of K2's Prometheus text (unlabelled series, or summed over labels). */
export function metric(text: string, name: string): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== " " && line[name.length] !== "{")) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    seen = true;
  }
  return seen ? sum : Number.NaN;
}

/** A histogram's upper bounds (without +Inf) and cumulative counts (with +Inf last), or undefined. */
export function histogram(text: string, name: string): { bounds: number[]; cum: number[] } | undefined {
  const bounds: number[] = [];
  const cum: number[] = [];
  const prefix = `${name}_bucket{le="`;
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const le = line.slice(prefix.length, line.indexOf('"', prefix.length));
    if (le !== "+Inf") bounds.push(Number(le));
    cum.push(Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return cum.length === bounds.length + 1 && cum.length > 1 ? { bounds, cum } : undefined;
}
