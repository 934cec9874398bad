import { describe, expect, it } from 'vitest';
import {
  escapeHelp,
  escapeLabelValue,
  formatPrometheusValue,
  PROMETHEUS_CONTENT_TYPE,
  PrometheusWriter,
  prefersPrometheusText,
} from './prometheus.ts';

describe('PrometheusWriter', () => {
  it('writes HELP, TYPE and samples of counters and gauges exactly', () => {
    const text = new PrometheusWriter()
      .counter('http_requests_total', 'Requests served.', [
        { labels: { method: 'GET', code: 200 }, value: 1027 },
        { labels: { method: 'POST', code: 400 }, value: 3 },
      ])
      .gauge('queue_depth', 'Jobs waiting.', 42)
      .gauge('temperature_celsius', 'Can be negative and fractional.', [{ value: -3.25 }])
      .toString();
    expect(text).toBe(
      '# HELP http_requests_total Requests served.\n' +
        '# TYPE http_requests_total counter\n' +
        'http_requests_total{method="GET",code="200"} 1027\n' +
        'http_requests_total{method="POST",code="400"} 3\n' +
        '# HELP queue_depth Jobs waiting.\n' +
        '# TYPE queue_depth gauge\n' +
        'queue_depth 42\n' +
        '# HELP temperature_celsius Can be negative and fractional.\n' +
        '# TYPE temperature_celsius gauge\n' +
        'temperature_celsius -3.25\n',
    );
  });

  it('escapes label values (backslash, quote, newline) and HELP text (backslash, newline)', () => {
    const text = new PrometheusWriter()
      .gauge('x', 'Line one\nC:\\path "quoted"', [{ labels: { path: 'C:\\dir\n"q"' }, value: 1 }])
      .toString();
    expect(text).toBe(
      '# HELP x Line one\\nC:\\\\path "quoted"\n' + '# TYPE x gauge\n' + 'x{path="C:\\\\dir\\n\\"q\\""} 1\n',
    );
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeHelp('a\\b"c\nd')).toBe('a\\\\b"c\\nd');
  });

  it('formats special values as the format wants them', () => {
    expect([Number.NaN, Infinity, -Infinity, -0, 0.1, 1e21, 1.5e-7, 3].map(formatPrometheusValue)).toEqual([
      'NaN',
      '+Inf',
      '-Inf',
      '0',
      '0.1',
      '1e+21',
      '1.5e-7',
      '3',
    ]);
  });

  it('writes a summary as quantile lines, then _sum and _count, per label set', () => {
    const text = new PrometheusWriter()
      .summary('rpc_duration_seconds', 'RPC latency.', [
        {
          labels: { service: 'a' },
          quantiles: [
            { quantile: 0.5, value: 0.012 },
            { quantile: 0.99, value: Number.NaN },
          ],
          sum: 1.75,
          count: 90,
        },
      ])
      .toString();
    expect(text).toBe(
      '# HELP rpc_duration_seconds RPC latency.\n' +
        '# TYPE rpc_duration_seconds summary\n' +
        'rpc_duration_seconds{service="a",quantile="0.5"} 0.012\n' +
        'rpc_duration_seconds{service="a",quantile="0.99"} NaN\n' +
        'rpc_duration_seconds_sum{service="a"} 1.75\n' +
        'rpc_duration_seconds_count{service="a"} 90\n',
    );
  });

  it('writes a histogram as cumulative buckets ending in +Inf, then _sum and _count', () => {
    const text = new PrometheusWriter()
      .histogram('req_seconds', 'Request time.', [
        {
          buckets: [
            { le: 0.05, count: 24 },
            { le: 0.1, count: 33 },
            { le: 1, count: 100 },
          ],
          sum: 53.4,
          count: 144,
        },
      ])
      .toString();
    expect(text).toBe(
      '# HELP req_seconds Request time.\n' +
        '# TYPE req_seconds histogram\n' +
        'req_seconds_bucket{le="0.05"} 24\n' +
        'req_seconds_bucket{le="0.1"} 33\n' +
        'req_seconds_bucket{le="1"} 100\n' +
        'req_seconds_bucket{le="+Inf"} 144\n' +
        'req_seconds_sum 53.4\n' +
        'req_seconds_count 144\n',
    );
  });

  it('writes HELP and TYPE for a family without samples, and nothing at all when empty', () => {
    expect(new PrometheusWriter().gauge('ratio', 'No data yet.', []).toString()).toBe(
      '# HELP ratio No data yet.\n# TYPE ratio gauge\n',
    );
    expect(new PrometheusWriter().toString()).toBe('');
  });

  it.each([
    ['a counter without _total', (w: PrometheusWriter) => w.counter('requests', 'h', 1), /_total/],
    ['a negative counter', (w: PrometheusWriter) => w.counter('x_total', 'h', -1), /invalid value/],
    ['a NaN counter', (w: PrometheusWriter) => w.counter('x_total', 'h', Number.NaN), /invalid value/],
    ['a bad metric name', (w: PrometheusWriter) => w.gauge('1bad', 'h', 1), /invalid metric name/],
    [
      'a bad label name',
      (w: PrometheusWriter) => w.gauge('x', 'h', [{ labels: { 'a-b': 1 }, value: 1 }]),
      /invalid label name/,
    ],
    [
      'a reserved __ label',
      (w: PrometheusWriter) => w.gauge('x', 'h', [{ labels: { __name__: 'y' }, value: 1 }]),
      /invalid label name/,
    ],
    [
      'le on a gauge',
      (w: PrometheusWriter) => w.gauge('x', 'h', [{ labels: { le: '1' }, value: 1 }]),
      /reserved/,
    ],
    [
      'le on a histogram (the writer adds it)',
      (w: PrometheusWriter) =>
        w.histogram('x', 'h', [{ labels: { le: '1' }, buckets: [], sum: 0, count: 0 }]),
      /reserved/,
    ],
    [
      'quantile on a histogram',
      (w: PrometheusWriter) =>
        w.histogram('x', 'h', [{ labels: { quantile: '1' }, buckets: [], sum: 0, count: 0 }]),
      /reserved/,
    ],
    ['a family written twice', (w: PrometheusWriter) => w.gauge('x', 'h', 1).gauge('x', 'h', 2), /twice/],
    [
      'two samples with one label set',
      (w: PrometheusWriter) =>
        w.gauge('x', 'h', [
          { labels: { a: '1', b: '2' }, value: 1 },
          { labels: { b: '2', a: '1' }, value: 2 },
        ]),
      /duplicate label set/,
    ],
    [
      'a quantile above 1',
      (w: PrometheusWriter) =>
        w.summary('x', 'h', [{ quantiles: [{ quantile: 1.5, value: 1 }], sum: 0, count: 0 }]),
      /quantile outside/,
    ],
    [
      'non-cumulative buckets',
      (w: PrometheusWriter) =>
        w.histogram('x', 'h', [
          {
            buckets: [
              { le: 1, count: 5 },
              { le: 2, count: 4 },
            ],
            sum: 1,
            count: 5,
          },
        ]),
      /cumulative/,
    ],
    [
      'unsorted bucket bounds',
      (w: PrometheusWriter) =>
        w.histogram('x', 'h', [
          {
            buckets: [
              { le: 2, count: 1 },
              { le: 1, count: 1 },
            ],
            sum: 1,
            count: 1,
          },
        ]),
      /ascending/,
    ],
    [
      'a bucket above count',
      (w: PrometheusWriter) => w.histogram('x', 'h', [{ buckets: [{ le: 1, count: 3 }], sum: 1, count: 2 }]),
      /at most count/,
    ],
    [
      'a fractional count',
      (w: PrometheusWriter) => w.summary('x', 'h', [{ quantiles: [], sum: 0, count: 1.5 }]),
      /invalid count/,
    ],
  ])('refuses %s', (_name, write, message) => {
    expect(() => write(new PrometheusWriter())).toThrow(message);
  });

  it('every line it writes is a comment or `name{labels} value` (a line-level parse of a mixed exposition)', () => {
    const text = new PrometheusWriter()
      .counter('a_total', 'x', [{ labels: { v: 'we"ird\\\nvalue,with}braces' }, value: 1 }])
      .summary('b', 'y', [{ quantiles: [{ quantile: 0.5, value: 1 }], sum: 1, count: 1 }])
      .histogram('c', 'z', [{ buckets: [{ le: 1, count: 1 }], sum: 1, count: 1 }])
      .toString();
    const sample =
      /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*",?)*\})? \S+$/;
    for (const line of text.trimEnd().split('\n')) {
      expect(line.startsWith('# HELP ') || line.startsWith('# TYPE ') || sample.test(line), line).toBe(true);
    }
  });
});

describe('prefersPrometheusText', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['application/json', false],
    ['*/*', false],
    ['text/plain', true],
    ['text/plain; version=0.0.4', true],
    ['text/*', true],
    ['application/json, text/plain;q=0.5', false],
    ['application/json;q=0.4, text/plain;q=0.5', true],
    ['text/plain;q=0', false],
    // Prometheus 2.x / 3.x scrape headers.
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      true,
    ],
    ['application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2', true],
  ])('accept %j → %s', (accept, expected) => {
    expect(prefersPrometheusText(accept)).toBe(expected);
  });

  it('names the 0.0.4 content type', () => {
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
