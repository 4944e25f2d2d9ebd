/**
 * Scrapes the gateway's Prometheus endpoint (GET /metrics, prom-client text format) before and
 * after a phase. From it the bench takes prom-client's event-loop lag gauges and, for every
 * histogram that moved during the phase (`*_sum` / `*_count`), the mean per observation — the
 * gateway's own account of where a phase's time went, when it exports such histograms.
 */
import http from 'node:http';

/** `name{labels}` -> value. */
export type Scrape = Map<string, number>;

export interface HistogramDelta {
  /** Metric name without `_sum`/`_count`, with its labels. */
  series: string;
  count: number;
  /** Mean observed value (seconds for `*_seconds` histograms). */
  mean: number;
}

export function parsePrometheusText(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // name{labels} value [timestamp] — label values may contain spaces, so split at the last '}'.
    const brace = line.lastIndexOf('}');
    const head = brace >= 0 ? line.slice(0, brace + 1) : line.split(' ')[0] ?? '';
    const rest = (brace >= 0 ? line.slice(brace + 1) : line.slice(head.length)).trim().split(/\s+/);
    const value = Number(rest[0]);
    if (head && Number.isFinite(value)) out.set(head, value);
  }
  return out;
}

/** GET /metrics; undefined when the endpoint is absent, refuses, or is not Prometheus text. */
export function scrapeMetrics(origin: string, token: string | undefined): Promise<Scrape | undefined> {
  const url = new URL('/metrics', origin);
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
        port: url.port,
        path: url.pathname,
        headers: { accept: 'text/plain', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200 || !text.includes('# TYPE')) return resolve(undefined);
          resolve(parsePrometheusText(text));
        });
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** A gauge by metric name (the first series of that name). */
export function gauge(scrape: Scrape | undefined, name: string): number | undefined {
  if (!scrape) return undefined;
  for (const [series, value] of scrape) {
    if (series === name || series.startsWith(`${name}{`)) return value;
  }
  return undefined;
}

/** Histograms (and summaries) whose count grew between two scrapes, with their mean per observation. */
export function histogramDeltas(before: Scrape | undefined, after: Scrape | undefined): HistogramDelta[] {
  if (!after) return [];
  const out: HistogramDelta[] = [];
  for (const [series, count] of after) {
    const m = /^(.*)_count(\{.*\})?$/.exec(series);
    if (!m) continue;
    const base = m[1] ?? '';
    const labels = m[2] ?? '';
    const sum = after.get(`${base}_sum${labels}`);
    if (sum === undefined) continue;
    const dCount = count - (before?.get(series) ?? 0);
    const dSum = sum - (before?.get(`${base}_sum${labels}`) ?? 0);
    if (dCount > 0) out.push({ series: `${base}${labels}`, count: dCount, mean: dSum / dCount });
  }
  return out.sort((a, b) => b.count * b.mean - a.count * a.mean);
}
