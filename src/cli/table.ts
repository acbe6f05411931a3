/** Plain-text output for the offline CLI commands: aligned columns and µs timestamps. */

/** Rows under a header, columns padded to their widest cell; numbers are right-aligned. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === "number"));
  const width = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  return cells
    .map((r) =>
      r
        .map((cell, c) => (numeric[c] ? cell.padStart(width[c]!) : cell.padEnd(width[c]!)))
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `  ${line}`)
    .join("\n");
}

/** µs since the epoch → ISO-8601 UTC with all six fractional digits (receive times are µs). */
export function isoUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const frac = String(us - ms * 1000).padStart(3, "0");
  return new Date(ms).toISOString().replace("Z", `${frac}Z`);
}

/** Entries of a count map, largest first, then by name (stable output for tests and diffs). */
export function byCount(m: Readonly<Record<string, number>>): [string, number][] {
  return Object.entries(m).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
