/**
 * A self-contained report page: inline SVG line charts and a table, no scripts, fonts or other
 * external assets, so the file can be mailed or attached to a CI run and opened anywhere.
 */

export interface Series {
  title: string;
  unit: string;
  /** x in minutes since start. */
  points: [number, number][];
  /** Shaded x-ranges (injected faults), in minutes. */
  bands?: [number, number][];
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function svgChart(s: Series, width = 720, height = 220): string {
  const pad = { l: 64, r: 12, t: 24, b: 30 };
  const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x0 = Math.min(0, ...xs);
  const x1 = Math.max(x0 + 1e-9, ...xs);
  const y0 = Math.min(0, ...ys);
  const y1 = Math.max(y0 + 1e-9, ...ys) * 1.05;
  const X = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y: number) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  const path = pts.map(([x, y], i) => `${i ? "L" : "M"}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join("");
  const bands = (s.bands ?? [])
    .map(
      ([a, b]) =>
        `<rect x="${X(a).toFixed(1)}" y="${pad.t}" width="${Math.max(1, X(b) - X(a)).toFixed(1)}" height="${height - pad.t - pad.b}" fill="#f6d5d5"/>`,
    )
    .join("");
  const ticks = [0, 0.5, 1]
    .map((f) => {
      const v = y0 + f * (y1 - y0);
      return `<text x="${pad.l - 6}" y="${Y(v) + 4}" text-anchor="end">${v.toPrecision(3)}</text><line x1="${pad.l}" x2="${width - pad.r}" y1="${Y(v)}" y2="${Y(v)}" stroke="#eee"/>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
<text x="${pad.l}" y="15" font-size="13" font-weight="bold">${esc(s.title)} (${esc(s.unit)})</text>${bands}${ticks}
<line x1="${pad.l}" x2="${width - pad.r}" y1="${height - pad.b}" y2="${height - pad.b}" stroke="#999"/>
<text x="${pad.l}" y="${height - 8}">${x0.toFixed(1)} min</text><text x="${width - pad.r}" y="${height - 8}" text-anchor="end">${x1.toFixed(1)} min</text>
<path d="${path}" fill="none" stroke="#2a62c9" stroke-width="1.5"/></svg>`;
}

export function htmlReport(
  title: string,
  verdict: [string, string, boolean | null][],
  charts: Series[],
  notes: string[],
): string {
  const rows = verdict
    .map(([k, v, ok]) => {
      const mark =
        ok === null ? "" : ok ? ' style="color:#176b1b"' : ' style="color:#b00020;font-weight:bold"';
      return `<tr><th>${esc(k)}</th><td${mark}>${esc(v)}</td></tr>`;
    })
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:24px;max-width:760px}th{text-align:left;padding-right:16px;font-weight:normal;color:#555}td{font-family:monospace}svg{display:block;margin:12px 0}</style>
</head><body><h1>${esc(title)}</h1><table>${rows}</table>
${charts.map((c) => svgChart(c)).join("\n")}
<p style="color:#777">Shaded: injected faults. ${notes.map(esc).join(" ")}</p></body></html>\n`;
}
