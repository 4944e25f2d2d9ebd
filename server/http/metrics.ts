/**
 * Prometheus metrics (prom-client) for the whole gateway: WebAuthn ceremonies, refusals by reason,
 * lifecycle transitions, HSM signing latency and errors, HTTP request durations, and the Node.js
 * process figures (event-loop delay among them). The core and hsm/ know nothing of this: they
 * report through observer callbacks that server/runtime.ts connects here.
 *
 * Under node:cluster every worker keeps its own figures; GET /metrics on any worker asks the
 * primary, which gathers every worker's figures with prom-client's AggregatorRegistry (counters
 * and histograms summed, gauges by their aggregator) and answers over IPC. The primary side is
 * {@link installClusterMetricsPrimary}; server/main.ts calls it once in the primary.
 */
import cluster, { type Worker } from 'node:cluster';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayEvent } from '../flows/events.js';
import { ForbiddenError, GatewayError, ServiceUnavailableError } from '../errors.js';

/** The Prometheus text exposition format 0.0.4 (what prom-client's Registry renders). */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * How often the event-loop delay is sampled (ms). prom-client resets the delay histogram at every
 * collection, so nodejs_eventloop_lag_p50_seconds / _p99_seconds describe the time since the
 * previous scrape of this process (in a cluster: since the previous aggregated scrape).
 * Issue 17: each sample is a timer that wakes the event loop, even on an idle process; at 5 ms
 * that was 200 wake-ups a second in every process (prom-client's default is 10). A delay is
 * measured in full whatever the period: 20 ms samples it 50 times a second.
 */
const EVENT_LOOP_RESOLUTION_MS = 20;

/** Sub-millisecond to seconds: a sign-in is a few ms, an HSM signature well under one. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const HSM_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** The process's own figures (CPU, memory, event loop): once per process, whatever the runtimes. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
  }
  return processRegistry;
}

/** The figures of one gateway runtime. Label values are bounded sets (codes, patterns), never input. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly ceremonies = new Counter({
    name: 'gateway_webauthn_ceremonies_total',
    help: 'WebAuthn ceremonies finished, by kind (enrolment, activation, signin) and outcome (succeeded, refused).',
    labelNames: ['ceremony', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: 'gateway_refusals_total',
    help: 'Refusals recorded in the audit trail, by audit event and exact reason.',
    labelNames: ['event', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly transitions = new Counter({
    name: 'gateway_lifecycle_transitions_total',
    help: 'Security-key lifecycle transitions committed, by action and from/to state (NSIS 3.2).',
    labelNames: ['action', 'from', 'to'] as const,
    registers: [this.registry],
  });
  private readonly hsmSign = new Histogram({
    name: 'gateway_hsm_sign_duration_seconds',
    help: 'Time to obtain one signature from the HSM signing port (pool wait included), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: HSM_BUCKETS,
    registers: [this.registry],
  });
  private readonly hsmErrors = new Counter({
    name: 'gateway_hsm_errors_total',
    help: 'HSM signing failures, by error code (HSM_UNAVAILABLE, ...).',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly http = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request duration, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly auditRefusals = new Counter({
    name: 'gateway_audit_checkpoint_refusals_total',
    help: 'Times the checkpointer refused to sign the audit chain head because it does not extend the last signed checkpoint, by finding.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly auditAlarm = new Gauge({
    name: 'gateway_audit_integrity_alarm',
    help: '1 while the checkpointer refuses to sign (the audit trail was changed); alert on any value above 0.',
    aggregator: 'max',
    registers: [this.registry],
  });
  private readonly witnessFailures = new Counter({
    name: 'gateway_audit_witness_failures_total',
    help: 'Checkpoints not (yet) written to a witness outside the database, by sink (directory, url); retried.',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });
  private readonly hsmFailovers = new Counter({
    name: 'gateway_hsm_failovers_total',
    help: 'Times signing moved from one HSM token to another, by the token it moved to.',
    labelNames: ['token'] as const,
    registers: [this.registry],
  });
  private hsmStatus: (() => 'ok' | 'unavailable') | undefined;
  private hsmTokens: (() => { name: string; status: 'ok' | 'unavailable'; signing: boolean }[]) | undefined;

  /**
   * `processFigures: false`: no CPU, memory and event-loop figures of this process (their
   * event-loop sampler runs for the life of the process): the cluster primary's start-up runtime,
   * which serves no /metrics (issue 17: it kept waking the idle primary 200 times a second).
   */
  constructor(opts: { processFigures?: boolean } = {}) {
    const self = this;
    new Gauge({
      name: 'gateway_hsm_up',
      help: '1 when the HSM connection is available (in a cluster: in every worker), else 0.',
      aggregator: 'min',
      registers: [this.registry],
      collect() {
        this.set(self.hsmStatus?.() === 'ok' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gateway_hsm_token_up',
      help: '1 when this HSM token is available (in a cluster: in every worker), else 0; one series per configured token.',
      labelNames: ['token'] as const,
      aggregator: 'min',
      registers: [this.registry],
      collect() {
        this.reset();
        for (const t of self.hsmTokens?.() ?? []) this.set({ token: t.name }, t.status === 'ok' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gateway_hsm_token_signing',
      help: '1 for the HSM token signatures go to now (the first available one), else 0 (in a cluster: in any worker).',
      labelNames: ['token'] as const,
      aggregator: 'max',
      registers: [this.registry],
      collect() {
        this.reset();
        for (const t of self.hsmTokens?.() ?? []) this.set({ token: t.name }, t.signing ? 1 : 0);
      },
    });
    if (cluster.isWorker) {
      // This worker answers the primary's aggregation requests with these registries.
      AggregatorRegistry.setRegistries([processMetrics(), this.registry]);
      new AggregatorRegistry();
    } else if (opts.processFigures ?? true) {
      processMetrics();
    }
  }

  /** Observer for the core (CoreDeps.observe): called after each commit. */
  readonly onGatewayEvent = (event: GatewayEvent): void => {
    switch (event.kind) {
      case 'ceremony':
        this.ceremonies.inc({ ceremony: event.ceremony, outcome: event.outcome });
        break;
      case 'refusal':
        this.refusals.inc({ event: event.event, reason: event.reason });
        break;
      case 'transition':
        this.transitions.inc({ action: event.action, from: event.from, to: event.to });
        break;
    }
  };

  /** Observer for the signing port (KeyManager onSign). */
  readonly onHsmSign = (event: { seconds: number; errorCode: string | undefined }): void => {
    this.hsmSign.observe({ outcome: event.errorCode ? 'error' : 'ok' }, event.seconds);
    if (event.errorCode) this.hsmErrors.inc({ code: event.errorCode });
  };

  /** Observers for the audit checkpointer (server/audit/alarm.ts, Checkpointer.ts). */
  readonly onAuditRefusal = (reason: string): void => {
    this.auditRefusals.inc({ reason });
  };

  readonly onAuditAlarmState = (raised: boolean): void => {
    this.auditAlarm.set(raised ? 1 : 0);
  };

  readonly onWitnessFailure = (sink: 'directory' | 'url'): void => {
    this.witnessFailures.inc({ sink });
  };

  /** Observer for the HSM group: signing moved to another token. */
  readonly onHsmFailover = (event: { from: string | undefined; to: string }): void => {
    if (event.from !== undefined) this.hsmFailovers.inc({ token: event.to });
  };

  /** Where gateway_hsm_up and the per-token gauges read the HSM's state (no HSM: 0, no tokens). */
  watchHsm(status: () => 'ok' | 'unavailable', tokens?: () => { name: string; status: 'ok' | 'unavailable'; signing: boolean }[]): void {
    this.hsmStatus = status;
    this.hsmTokens = tokens;
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status: String(status) }, seconds);
  }

  /** This process's figures in the text format. */
  async text(): Promise<string> {
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }

  /** The whole gateway's figures: every worker's, aggregated by the primary, in a cluster. */
  async exposition(): Promise<string> {
    return cluster.isWorker ? requestClusterMetrics() : this.text();
  }
}

// ------------------------------------------------------------------------------ scrape access

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Who may scrape: with GATEWAY_METRICS_TOKEN, whoever presents it as a Bearer token (compared in
 * constant time, over fixed-length digests so the length leaks nothing either); without it, only
 * loopback clients. Behind a reverse proxy on the same host every connection is loopback, so the
 * forwarded client (req.ip, with GATEWAY_TRUST_PROXY) must be loopback too.
 */
export function authorizeScrape(req: Request, token: string | undefined): void {
  if (token !== undefined) {
    const header = req.headers.authorization ?? '';
    const presented = /^Bearer ([^\s]+)$/i.exec(header)?.[1];
    if (presented === undefined || !timingSafeEqual(sha256(presented), sha256(token))) {
      // RFC 6750 3: a protected resource names the scheme it wants.
      throw new GatewayError('UNAUTHENTICATED', 401, 'Present the metrics bearer token (GATEWAY_METRICS_TOKEN).', {
        headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
      });
    }
    return;
  }
  const socketAddress = req.socket.remoteAddress ?? '';
  if (!LOOPBACK.test(socketAddress) || !LOOPBACK.test(req.ip ?? '')) {
    throw new ForbiddenError('FORBIDDEN', 'Metrics are served to loopback clients only unless GATEWAY_METRICS_TOKEN is set.');
  }
}

// ------------------------------------------------------------------------------ cluster IPC

interface MetricsRequest {
  gatewayMetrics: 'request';
  id: number;
}

interface MetricsAnswer {
  gatewayMetrics: 'answer';
  id: number;
  text: string | null;
}

function isRecord(m: unknown): m is Record<string, unknown> {
  return typeof m === 'object' && m !== null;
}

function isMetricsRequest(m: unknown): m is MetricsRequest {
  return isRecord(m) && m['gatewayMetrics'] === 'request' && typeof m['id'] === 'number';
}

function isMetricsAnswer(m: unknown): m is MetricsAnswer {
  return isRecord(m) && m['gatewayMetrics'] === 'answer' && typeof m['id'] === 'number' && (typeof m['text'] === 'string' || m['text'] === null);
}

/** The worker's end of the IPC channel to the primary (process, in a cluster worker). */
export interface IpcEndpoint {
  send?: ((message: MetricsRequest) => boolean) | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** prom-client's own aggregation waits up to 5 s for the workers; allow for that and the relay. */
export const CLUSTER_METRICS_TIMEOUT_MS = 6000;
let nextRequestId = 0;

/**
 * Worker side: asks the primary for the aggregated figures of every worker. Fails with a 503
 * (ServiceUnavailableError, Retry-After) if no answer comes within `timeoutMs` or the primary
 * could not gather them.
 */
export function requestClusterMetrics(endpoint: IpcEndpoint = process, timeoutMs = CLUSTER_METRICS_TIMEOUT_MS): Promise<string> {
  const id = nextRequestId++;
  return new Promise<string>((resolve, reject) => {
    const unavailable = () => new ServiceUnavailableError('The cluster-wide metrics could not be gathered in time; try again.', 5);
    const listener = (message: unknown): void => {
      if (!isMetricsAnswer(message) || message.id !== id) return;
      clearTimeout(timer);
      endpoint.off('message', listener);
      if (message.text === null) reject(unavailable());
      else resolve(message.text);
    };
    const timer = setTimeout(() => {
      endpoint.off('message', listener);
      reject(unavailable());
    }, timeoutMs);
    endpoint.on('message', listener);
    if (!endpoint.send) {
      clearTimeout(timer);
      endpoint.off('message', listener);
      reject(unavailable());
      return;
    }
    endpoint.send({ gatewayMetrics: 'request', id });
  });
}

let primaryInstalled = false;

/**
 * Primary side (call once in the cluster primary, before or after forking): answers every
 * worker's request with the figures of all connected workers, aggregated by prom-client.
 */
export function installClusterMetricsPrimary(): void {
  if (!cluster.isPrimary) throw new TypeError('installClusterMetricsPrimary runs in the cluster primary');
  if (primaryInstalled) return;
  primaryInstalled = true;
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMetricsRequest(message)) return;
    const answer = (text: string | null): void => {
      if (!worker.isConnected()) return;
      const reply: MetricsAnswer = { gatewayMetrics: 'answer', id: message.id, text };
      worker.send(reply);
    };
    aggregator.clusterMetrics().then(answer, () => answer(null));
  });
}
