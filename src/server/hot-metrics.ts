/**
 * A counter and a histogram for the metrics updated on every request and decision. An update is one
 * addition on a child made once per label set; prom-client's registry renders them exactly like its
 * own `Counter` and `Histogram`, from the same `get` data.
 *
 * prom-client's own update (`labels(...).inc()`, `.observe()`) builds a labels object, validates it
 * and hashes it into a string on every call: about 1.5 µs each, four times per decision.
 */

import type { Metric, MetricValue, Registry } from "prom-client";

type Labels = Record<string, string | number>;

/** One value line as prom-client's registry reads it (`sharedLabels` are the child's own labels). */
interface ValueLine {
  value: number;
  labels: Labels;
  sharedLabels?: Labels;
  metricName?: string;
  /** prom-client's bucket lines carry a (here always empty) exemplar slot. */
  exemplar?: null;
}

interface MetricData {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  values: ValueLine[];
}

function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  const labels: Labels = {};
  names.forEach((name, i) => {
    labels[name] = values[i] ?? "";
  });
  return labels;
}

/** Children by label values, made on first use. */
class Children<C> {
  private readonly byKey = new Map<string, C>();
  constructor(private readonly make: (values: readonly string[]) => C) {}

  get(values: readonly string[]): C {
    const key = values.length === 1 ? (values[0] ?? "") : values.join("\u0000");
    let child = this.byKey.get(key);
    if (child === undefined) {
      child = this.make(values);
      this.byKey.set(key, child);
    }
    return child;
  }

  all(): IterableIterator<C> {
    return this.byKey.values();
  }

  clear(): void {
    this.byKey.clear();
  }
}

export class HotCounterChild {
  value = 0;
  constructor(readonly labels: Labels) {}

  inc(by = 1): void {
    this.value += by;
  }
}

/** A Prometheus counter whose children are kept; `child(...values)` once, `inc()` per event. */
export class HotCounter {
  readonly type = "counter";
  readonly aggregator = "sum";
  private readonly children: Children<HotCounterChild>;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    this.children = new Children((values) => new HotCounterChild(labelsOf(labelNames, values)));
    registry.registerMetric(this as unknown as Metric);
  }

  /** The child for these label values, in `labelNames` order. */
  child(...values: string[]): HotCounterChild {
    return this.children.get(values);
  }

  async get(): Promise<MetricData> {
    const values: ValueLine[] = [];
    for (const c of this.children.all()) values.push({ value: c.value, labels: c.labels });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.children.clear();
  }
}

export class HotHistogramChild {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return; // observers must not throw
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }
}

/** A Prometheus histogram whose children are kept; `child(...values)` once, `observe(v)` per event. */
export class HotHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly children: Children<HotHistogramChild>;
  private readonly bounds: readonly number[];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    this.bounds = Object.freeze([...buckets].sort((a, b) => a - b));
    this.children = new Children((values) => new HotHistogramChild(labelsOf(labelNames, values), this.bounds));
    // like prom-client, a histogram without labels shows its zero buckets before the first observation
    if (labelNames.length === 0) this.child();
    registry.registerMetric(this as unknown as Metric);
  }

  child(...values: string[]): HotHistogramChild {
    return this.children.get(values);
  }

  /** The lines as prom-client's registry renders them: `le` first, then the child's labels. */
  async getForPromString(): Promise<MetricData> {
    const values: ValueLine[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.children.all()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += c.counts[i] ?? 0;
        values.push({ labels: { le }, sharedLabels: c.labels, value: cumulative, metricName: bucket, exemplar: null });
      });
      values.push({
        labels: { le: "+Inf" },
        sharedLabels: c.labels,
        value: c.count,
        metricName: bucket,
        exemplar: null,
      });
      values.push({ labels: {}, sharedLabels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The same lines with the child's labels merged in, as `getMetricsAsJSON` expects. */
  async get(): Promise<MetricData & { values: MetricValue<string>[] }> {
    const data = await this.getForPromString();
    const values = data.values.map(({ labels, sharedLabels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return { ...data, values };
  }

  reset(): void {
    this.children.clear();
    if (this.labelNames.length === 0) this.child();
  }
}
