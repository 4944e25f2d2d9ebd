/**
 * Operations endpoints at the root, declared in the route registry like every API route (so they
 * are in the OpenAPI document): liveness and readiness probes for an orchestrator or load
 * balancer, and the Prometheus scrape. /api/health (routes.ts) stays as the detailed report.
 */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Store } from '../ports/store.js';
import { authorizeScrape, METRICS_CONTENT_TYPE, type GatewayMetrics } from './metrics.js';
import { route, type RouteSpec } from './registry.js';
import { requestLogger } from './requestLog.js';
import type { HealthSource } from './routes/index.js';

export interface OperationsDeps {
  config: Readonly<Config>;
  store: Store;
  hsm: HealthSource | undefined;
  metrics: GatewayMetrics;
  log: Logger;
}

type DependencyStatus = 'ok' | 'unavailable';

export function operationsRoutes(deps: OperationsDeps): RouteSpec[] {
  const { config, metrics } = deps;

  /** The store answers a query now (the adapter's health check: it never waits on a writer). */
  const databaseStatus = async (): Promise<DependencyStatus> => {
    try {
      await deps.store.health();
      return 'ok';
    } catch {
      return 'unavailable';
    }
  };

  return [
    route({
      method: 'get',
      path: '/health/live',
      summary: 'Liveness: the process is up and serving HTTP',
      tag: 'operations',
      access: { kind: 'public' },
      responses: { 200: 'Alive' },
      handler: ({ res }) => {
        res.setHeader('Cache-Control', 'no-store');
        res.json({ status: 'ok' });
      },
    }),
    route({
      method: 'get',
      path: '/health/ready',
      summary: 'Readiness: the database answers a query and an HSM token can sign; each reported separately, every HSM token on its own',
      tag: 'operations',
      access: { kind: 'public' },
      clause: 'NSIS 4.1.6: a gateway that cannot sign (HSM) or record (database) takes no traffic',
      responses: { 200: 'Ready', 503: 'The database or the HSM does not answer' },
      contentTypes: { 200: 'application/json', 503: 'application/json' },
      handler: async ({ res }) => {
        const database = await databaseStatus();
        let hsm: DependencyStatus = 'unavailable';
        let tokens: { name: string; status: DependencyStatus; signing: boolean }[] = [];
        if (deps.hsm) {
          const report = await deps.hsm.health();
          hsm = report.status;
          // Public endpoint: token names (chosen in the configuration) and states only; the HSM's
          // own error text (labels, CKR codes) goes to the log.
          tokens = (report.tokens ?? []).map((t) => ({ name: t.name, status: t.status, signing: t.signing }));
          const down = (report.tokens ?? []).filter((t) => t.status !== 'ok');
          if (report.status !== 'ok' || down.length > 0) {
            requestLogger(res, deps.log).warn({ hsm: report.detail, tokens: down.map((t) => ({ name: t.name, detail: t.detail })) }, 'readiness: HSM token unavailable');
          }
        }
        const ready = database === 'ok' && hsm === 'ok';
        res.setHeader('Cache-Control', 'no-store');
        res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', database: { status: database }, hsm: { status: hsm, tokens } });
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics of the whole gateway (every worker in a cluster)',
      tag: 'operations',
      access: { kind: 'public' },
      clause:
        'Bearer token GATEWAY_METRICS_TOKEN when set, otherwise loopback clients only. Counts and durations only: no identities, keys or secrets.',
      responses: { 200: 'Text exposition format 0.0.4', 401: 'Metrics token missing or wrong', 403: 'Not a loopback client', 503: 'Cluster figures not gathered in time' },
      contentTypes: { 200: METRICS_CONTENT_TYPE },
      handler: async ({ req, res }) => {
        authorizeScrape(req, config.metricsToken);
        const text = await metrics.exposition();
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Content-Type', METRICS_CONTENT_TYPE);
        res.send(text);
      },
    }),
  ];
}
