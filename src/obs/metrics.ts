/**
 * A small metrics registry rendered in Prometheus text format (version 0.0.4).
 * Hot-path cost is one property increment: `counter.inc()` touches a number field, no map lookup,
 * no label hashing (children for label values are resolved once, off the hot path).
 * Chosen over prom-client by native-bench/metrics.bench.ts (increment cost).
 */
export type Labels = Readonly<Record<string, string>>;

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
  ) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new RangeError(`invalid metric name ${name}`);
  }
  abstract render(out: string[]): void;
}

function labelText(labels: Labels | undefined, extra?: string): string {
  const parts: string[] = [];
  if (labels) for (const [k, v] of Object.entries(labels)) parts.push(`${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

export class CounterChild {
  value = 0;
  constructor(readonly labels: Labels | undefined) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class Counter extends Metric {
  readonly #children = new Map<string, CounterChild>();
  readonly #root = new CounterChild(undefined);
  /** Values read at render time, for counters kept elsewhere (e.g. the ring's own fields). */
  #collect: (() => number) | undefined;
  constructor(name: string, help: string, collect?: () => number) {
    super(name, help, "counter");
    this.#collect = collect;
  }
  inc(n = 1): void {
    this.#root.value += n;
  }
  get value(): number {
    return this.#collect ? this.#collect() : this.#root.value;
  }
  /** The child for one label set; keep the reference and call inc() on it in hot code. */
  with(labels: Labels): CounterChild {
    const key = JSON.stringify(labels);
    let c = this.#children.get(key);
    if (!c) {
      c = new CounterChild(labels);
      this.#children.set(key, c);
    }
    return c;
  }
  render(out: string[]): void {
    if (this.#children.size === 0 || this.#root.value !== 0 || this.#collect)
      out.push(`${this.name} ${num(this.value)}`);
    for (const c of this.#children.values()) out.push(`${this.name}${labelText(c.labels)} ${num(c.value)}`);
  }
}

export class Gauge extends Metric {
  #value = 0;
  readonly #collect: (() => number) | undefined;
  readonly #children = new Map<string, { labels: Labels; value: number }>();
  constructor(name: string, help: string, collect?: () => number) {
    super(name, help, "gauge");
    this.#collect = collect;
  }
  set(v: number): void {
    this.#value = v;
  }
  setWith(labels: Labels, v: number): void {
    const key = JSON.stringify(labels);
    const c = this.#children.get(key);
    if (c) c.value = v;
    else this.#children.set(key, { labels, value: v });
  }
  get value(): number {
    return this.#collect ? this.#collect() : this.#value;
  }
  render(out: string[]): void {
    if (this.#children.size === 0 || this.#collect) out.push(`${this.name} ${num(this.value)}`);
    for (const c of this.#children.values()) out.push(`${this.name}${labelText(c.labels)} ${num(c.value)}`);
  }
}

export class Histogram extends Metric {
  readonly bounds: Float64Array;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help, "histogram");
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => i > 0 && b === sorted[i - 1])) {
      throw new RangeError(`histogram ${name} needs distinct buckets`);
    }
    this.bounds = Float64Array.from(sorted);
    this.counts = new Float64Array(sorted.length + 1); // last = +Inf
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
  /** Samples at or under each bound, +Inf last: what a scrape of the buckets reads. */
  cumulative(): number[] {
    let cum = 0;
    return Array.from(this.counts, (n) => (cum += n));
  }
  render(out: string[]): void {
    const cum = this.cumulative();
    for (let i = 0; i < this.bounds.length; i++)
      out.push(`${this.name}_bucket{le="${num(this.bounds[i]!)}"} ${cum[i]}`);
    out.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    out.push(`${this.name}_sum ${num(this.sum)}`);
    out.push(`${this.name}_count ${this.count}`);
  }
}

export class Registry {
  readonly #metrics = new Map<string, Metric>();

  #add<M extends Metric>(m: M): M {
    if (this.#metrics.has(m.name)) throw new RangeError(`metric ${m.name} registered twice`);
    this.#metrics.set(m.name, m);
    return m;
  }
  counter(name: string, help: string, collect?: () => number): Counter {
    return this.#add(new Counter(name, help, collect));
  }
  gauge(name: string, help: string, collect?: () => number): Gauge {
    return this.#add(new Gauge(name, help, collect));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }
  get(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }
  /** Prometheus text exposition format. */
  render(): string {
    const out: string[] = [];
    for (const m of this.#metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      m.render(out);
    }
    return `${out.join("\n")}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
