/**
 * Child process of test/integration/operability.test.ts (not a test itself): a real node:cluster
 * primary with two real workers, each holding its own GatewayMetrics, to check that a scrape on
 * one worker returns the figures of all of them (prom-client's AggregatorRegistry in the primary,
 * our IPC request/answer in between). No gateway runtime: only the metrics path is exercised.
 *
 * Environment: SCENARIO_MODE = 'aggregate' (the primary installs the metrics answerer) or
 * 'no-answer' (it does not, so the worker's request must time out). Prints one JSON line:
 * { ok: true, text } or { ok: false, status, code, retryAfter }.
 */
import cluster from 'node:cluster';
import { GatewayError } from '../../server/errors.js';
import { GatewayMetrics, installClusterMetricsPrimary, requestClusterMetrics } from '../../server/http/metrics.js';

const WORKERS = 2;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

if (cluster.isPrimary) {
  const mode = process.env['SCENARIO_MODE'] ?? 'aggregate';
  if (mode === 'aggregate') installClusterMetricsPrimary();
  const workers = Array.from({ length: WORKERS }, (_, i) => cluster.fork({ SCENARIO_INDEX: String(i), SCENARIO_MODE: mode }));
  const ready = new Set<number>();
  const guard = setTimeout(() => {
    process.stderr.write('metrics cluster scenario: no result within 30 s\n');
    for (const w of workers) w.process.kill('SIGKILL');
    process.exit(2);
  }, 30_000);
  cluster.on('message', (worker, message: unknown) => {
    if (!isRecord(message)) return;
    if (message['scenario'] === 'ready') {
      ready.add(worker.id);
      // Only once every worker has counted: the scrape must see both.
      if (ready.size === WORKERS) workers[WORKERS - 1]?.send({ scenario: 'scrape' });
    } else if (message['scenario'] === 'result') {
      clearTimeout(guard);
      process.stdout.write(`${JSON.stringify(message['result'])}\n`);
      for (const w of workers) w.process.kill('SIGKILL');
      process.exit(0);
    }
  });
} else {
  const index = Number(process.env['SCENARIO_INDEX']);
  const metrics = new GatewayMetrics();
  // Worker i records i + 1 successful sign-ins and one refusal with a reason of its own.
  for (let i = 0; i <= index; i++) metrics.onGatewayEvent({ kind: 'ceremony', ceremony: 'signin', outcome: 'succeeded' });
  metrics.onGatewayEvent({ kind: 'refusal', event: 'signin.refused', reason: `reason-of-worker-${index}` });
  process.on('message', (message: unknown) => {
    if (!isRecord(message) || message['scenario'] !== 'scrape') return;
    const scrape = process.env['SCENARIO_MODE'] === 'no-answer' ? requestClusterMetrics(process, 500) : metrics.exposition();
    scrape.then(
      (text) => process.send?.({ scenario: 'result', result: { ok: true, text } }),
      (err: unknown) =>
        process.send?.({
          scenario: 'result',
          result: {
            ok: false,
            status: err instanceof GatewayError ? err.status : null,
            code: err instanceof GatewayError ? err.code : String(err),
            retryAfter: err instanceof GatewayError ? (err.headers?.['Retry-After'] ?? null) : null,
          },
        }),
    );
  });
  process.send?.({ scenario: 'ready' });
}
