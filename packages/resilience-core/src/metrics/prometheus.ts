/**
 * A small, dependency-free writer of the Prometheus text exposition format 0.0.4 (what `GET /metrics` answers
 * with `content-type: text/plain; version=0.0.4`). Each family is written as `# HELP`, `# TYPE`, then its
 * samples; families appear in the order they were added and samples in the order given.
 *
 * What it guarantees (and checks, throwing a plain `Error` on a programming mistake):
 * - metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*` (no `__` prefix);
 *   a family name is written once; two samples of a family never carry the same label set;
 * - counters end in `_total` and are finite and ≥ 0; `le` and `quantile` are written by the writer only;
 * - label values escape `\`, `"` and newline; HELP text escapes `\` and newline;
 * - values print as integers or shortest round-trip decimals, `NaN`, `+Inf`, `-Inf`;
 * - summaries print one `{quantile="q"}` line per quantile plus `_sum` and `_count`; histograms print
 *   cumulative `_bucket{le="…"}` lines ending with `le="+Inf"` (= `_count`), then `_sum` and `_count`.
 * No timestamps are written (the scraper stamps samples at scrape time).
 */

/** `content-type` of a 0.0.4 text exposition. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Label values by label name (numbers and booleans are written as their string form). */
export type PrometheusLabels = Readonly<Record<string, string | number | boolean>>;

/** One sample of a counter or gauge. */
export interface PrometheusSample {
  labels?: PrometheusLabels;
  value: number;
}

/** One summary (per label set): quantile → value, plus the sum and count of observations. */
export interface PrometheusSummarySample {
  labels?: PrometheusLabels;
  /** Quantiles in [0, 1] with their values, written in the order given. */
  quantiles: ReadonlyArray<{ quantile: number; value: number }>;
  sum: number;
  count: number;
}

/** One histogram (per label set): cumulative counts per upper bound, plus sum and count. */
export interface PrometheusHistogramSample {
  labels?: PrometheusLabels;
  /** Ascending upper bounds with CUMULATIVE counts (observations ≤ `le`); `+Inf` is added from `count`. */
  buckets: ReadonlyArray<{ le: number; count: number }>;
  sum: number;
  count: number;
}

/** The metric types of the 0.0.4 format. */
export type PrometheusMetricType = 'counter' | 'gauge' | 'summary' | 'histogram' | 'untyped';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Formats a sample value: integers plainly, other finite numbers in shortest round-trip form. */
export function formatPrometheusValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Object.is(value, -0)) return '0';
  return String(value);
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes HELP text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/**
 * Builds one exposition. `counter`/`gauge`/`summary`/`histogram` add a family (with zero or more samples; a
 * family with none still gets its HELP and TYPE lines); `toString()` renders everything, ending in a newline.
 */
export class PrometheusWriter {
  private readonly lines: string[] = [];
  private readonly names = new Set<string>();

  /** Adds a counter family. `name` must end in `_total`; values must be finite and ≥ 0. */
  counter(name: string, help: string, samples: number | readonly PrometheusSample[]): this {
    if (!name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    const list = typeof samples === 'number' ? [{ value: samples }] : samples;
    for (const s of list) {
      if (!Number.isFinite(s.value) || s.value < 0)
        throw new Error(`counter ${name} has an invalid value ${s.value}`);
    }
    return this.simple(name, 'counter', help, list);
  }

  /** Adds a gauge family (any value, including NaN and ±Inf). */
  gauge(name: string, help: string, samples: number | readonly PrometheusSample[]): this {
    return this.simple(name, 'gauge', help, typeof samples === 'number' ? [{ value: samples }] : samples);
  }

  /** Adds a summary family: per sample, one line per quantile, then `_sum` and `_count`. */
  summary(name: string, help: string, samples: readonly PrometheusSummarySample[]): this {
    this.header(name, 'summary', help);
    const seen = new Set<string>();
    for (const s of samples) {
      const labels = this.labelPairs(name, s.labels);
      this.unique(name, seen, labels);
      for (const q of s.quantiles) {
        if (!(q.quantile >= 0 && q.quantile <= 1))
          throw new Error(`summary ${name} has a quantile outside [0, 1]: ${q.quantile}`);
        this.sample(name, [...labels, `quantile="${formatPrometheusValue(q.quantile)}"`], q.value);
      }
      this.sample(`${name}_sum`, labels, s.sum);
      this.sample(`${name}_count`, labels, checkCount(name, s.count));
    }
    return this;
  }

  /** Adds a histogram family: per sample, cumulative `_bucket` lines ending with `+Inf`, `_sum`, `_count`. */
  histogram(name: string, help: string, samples: readonly PrometheusHistogramSample[]): this {
    this.header(name, 'histogram', help);
    const seen = new Set<string>();
    for (const s of samples) {
      const labels = this.labelPairs(name, s.labels);
      this.unique(name, seen, labels);
      const count = checkCount(name, s.count);
      let previousLe = Number.NEGATIVE_INFINITY;
      let previousCount = 0;
      for (const b of s.buckets) {
        if (!(b.le > previousLe) || b.le === Number.POSITIVE_INFINITY)
          throw new Error(`histogram ${name}: bucket bounds must be finite and strictly ascending`);
        if (!(b.count >= previousCount) || b.count > count)
          throw new Error(`histogram ${name}: bucket counts must be cumulative and at most count`);
        this.sample(`${name}_bucket`, [...labels, `le="${formatPrometheusValue(b.le)}"`], b.count);
        previousLe = b.le;
        previousCount = b.count;
      }
      this.sample(`${name}_bucket`, [...labels, 'le="+Inf"'], count);
      this.sample(`${name}_sum`, labels, s.sum);
      this.sample(`${name}_count`, labels, count);
    }
    return this;
  }

  /** The exposition text (every line ends in `\n`; empty when nothing was added). */
  toString(): string {
    return this.lines.length ? `${this.lines.join('\n')}\n` : '';
  }

  private simple(
    name: string,
    type: PrometheusMetricType,
    help: string,
    samples: readonly PrometheusSample[],
  ): this {
    this.header(name, type, help);
    const seen = new Set<string>();
    for (const s of samples) {
      const labels = this.labelPairs(name, s.labels);
      this.unique(name, seen, labels);
      this.sample(name, labels, s.value);
    }
    return this;
  }

  private header(name: string, type: PrometheusMetricType, help: string): void {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    if (this.names.has(name)) throw new Error(`metric ${name} written twice`);
    this.names.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }

  private labelPairs(name: string, labels: PrometheusLabels | undefined): string[] {
    const out: string[] = [];
    for (const [key, value] of Object.entries(labels ?? {})) {
      if (!LABEL_NAME.test(key) || key.startsWith('__'))
        throw new Error(`metric ${name}: invalid label name ${JSON.stringify(key)}`);
      // The writer adds `le` (histograms) and `quantile` (summaries) itself; callers never set them.
      if (key === 'le' || key === 'quantile') throw new Error(`metric ${name}: label ${key} is reserved`);
      out.push(`${key}="${escapeLabelValue(String(value))}"`);
    }
    return out;
  }

  private unique(name: string, seen: Set<string>, labels: readonly string[]): void {
    const key = [...labels].sort().join(',');
    if (seen.has(key)) throw new Error(`metric ${name}: duplicate label set {${key}}`);
    seen.add(key);
  }

  private sample(name: string, labels: readonly string[], value: number): void {
    const rendered = labels.length ? `${name}{${labels.join(',')}}` : name;
    this.lines.push(`${rendered} ${formatPrometheusValue(value)}`);
  }
}

function checkCount(name: string, count: number): number {
  if (!Number.isInteger(count) || count < 0) throw new Error(`metric ${name}: invalid count ${count}`);
  return count;
}

/**
 * Content negotiation for a metrics route that answers JSON by default: true when `accept` prefers
 * `text/plain` (the 0.0.4 exposition) over `application/json`. Ties (`*\/*`, no header) keep JSON. A
 * Prometheus server's header (`application/openmetrics-text;…;q=0.5,…,text/plain;version=0.0.4;q=0.3,*\/*;q=0.2`)
 * selects text, since OpenMetrics is not offered.
 */
export function prefersPrometheusText(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.trim().split(';');
      let q = 1;
      for (const p of params) {
        const [k, v] = p.trim().split('=');
        if (k?.trim().toLowerCase() === 'q') {
          const parsed = Number(v);
          q = Number.isFinite(parsed) ? Math.min(1, Math.max(0, parsed)) : 0;
        }
      }
      return { type: type.trim().toLowerCase(), q };
    })
    .filter((r) => r.type !== '');
  const qualityOf = (mediaType: string): number => {
    const [major] = mediaType.split('/');
    const exact = ranges.find((r) => r.type === mediaType);
    if (exact) return exact.q;
    const partial = ranges.find((r) => r.type === `${major}/*`);
    if (partial) return partial.q;
    return ranges.find((r) => r.type === '*/*')?.q ?? 0;
  };
  const text = qualityOf('text/plain');
  return text > 0 && text > qualityOf('application/json');
}
