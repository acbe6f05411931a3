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
