/** The benches' one number flag: `--name N`, a positive number (an integer where asked), else exit 2. */
export function numberFlag(
  argv: readonly string[],
  name: string,
  dflt: number,
  opts: { readonly integer?: boolean; readonly max?: number } = {},
): number {
  const i = argv.indexOf(name);
  const raw = i >= 0 ? argv[i + 1] : undefined;
  const v = raw === undefined ? dflt : Number(raw);
  const max = opts.max ?? Number.POSITIVE_INFINITY;
  const ok = (opts.integer ? Number.isInteger(v) : Number.isFinite(v)) && v > 0 && v <= max;
  if (!ok) {
    const what = opts.integer ? "a positive integer" : "a positive number";
    console.error(
      `${name}: expected ${what}${Number.isFinite(max) ? ` up to ${max}` : ""}, got ${JSON.stringify(raw)}`,
    );
    process.exit(2);
  }
  return v;
}
