/**
 * Child process for brute-force.test.ts: a node:cluster primary with two HTTP workers that mount
 * the gateway's ceremony rate limiters exactly as server/app.ts does, on one shared port. With
 * SCENARIO_SHARED=1 each worker counts in the store both open (one database, as the gateway's
 * workers share it); with 0 each worker counts in its own memory. The primary then sends
 * requests, each on a new connection so the cluster spreads them over both workers, and prints
 * one line `RESULT <json>`.
 *
 * The workers trust X-Forwarded-For from the loopback proxy (GATEWAY_TRUST_PROXY=loopback) so
 * that each phase can come from the addresses it needs: the account phase from one address (the
 * limit counts per account AND client), the IP phase from one address naming many accounts, the
 * soft phase (failed sign-ins, delayed progressively over the soft limit) from many addresses.
 */
import cluster from 'node:cluster';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { systemClock } from '../../server/clock.js';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { errorBoundary } from '../../server/http/problem.js';
import { CEREMONY_API_PATHS, ceremonyRateLimits } from '../../server/http/rateLimit.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';

export interface ClusterScenarioResult {
  accountLimit: number;
  ipLimit: number;
  /** Worker ids that answered (from the x-worker header). */
  servedBy: number[];
  accountStatuses: number[];
  ipStatuses: number[];
  softLimit: number;
  /** The delay each failed request of the soft phase waited, in order. */
  softDelays: number[];
  retryAfter: string[];
  problemCodes: string[];
  loggedUnshared: boolean;
}

const ACCOUNT_LIMIT = 3;
const IP_LIMIT = 5;
const SOFT_LIMIT = 2;
const WORKERS = 2;

interface Listening {
  kind: 'listening';
  port: number;
  loggedUnshared: boolean;
}

function isListening(m: unknown): m is Listening {
  return typeof m === 'object' && m !== null && 'kind' in m && m.kind === 'listening' && 'port' in m && typeof m.port === 'number';
}

function post(
  port: number,
  body: unknown,
  forwardedFor: string,
  path = '/api/signin/options',
): Promise<{ status: number; worker: number; retryAfter: string | undefined; code: string | undefined; throttledMs: number }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        // A new connection each time: the cluster hands connections to workers in turn.
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), connection: 'close', 'x-forwarded-for': forwardedFor },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => {
          let code: string | undefined;
          let throttledMs = 0;
          try {
            const parsed: unknown = JSON.parse(text);
            if (typeof parsed === 'object' && parsed !== null && 'code' in parsed && typeof parsed.code === 'string') code = parsed.code;
            if (typeof parsed === 'object' && parsed !== null && 'throttledMs' in parsed && typeof parsed.throttledMs === 'number') throttledMs = parsed.throttledMs;
          } catch {
            code = undefined;
          }
          const retry = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, worker: Number(res.headers['x-worker']), retryAfter: typeof retry === 'string' ? retry : undefined, code, throttledMs });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function primary(): Promise<void> {
  // The database the workers share (only with SCENARIO_SHARED=1 do they open it).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-limits-'));
  const listening: Listening[] = [];
  const ready = new Promise<void>((resolve) => {
    for (let i = 0; i < WORKERS; i++) {
      const w = cluster.fork({ SCENARIO_DB: path.join(dir, 'gateway.db') });
      w.on('message', (m: unknown) => {
        if (!isListening(m)) return;
        listening.push(m);
        if (listening.length === WORKERS) resolve();
      });
    }
  });
  await ready;
  const port = listening[0]?.port ?? 0;
  const servedBy = new Set<number>();
  const retryAfter: string[] = [];
  const problemCodes: string[] = [];
  const record = (r: Awaited<ReturnType<typeof post>>): number => {
    servedBy.add(r.worker);
    if (r.status === 429) {
      retryAfter.push(r.retryAfter ?? '');
      problemCodes.push(r.code ?? '');
    }
    return r.status;
  };
  // Account phase: one address from one IP. IP phase: many addresses from one IP. Soft phase:
  // failed sign-ins naming one credential from many IPs.
  const accountStatuses: number[] = [];
  for (let i = 0; i < ACCOUNT_LIMIT + 3; i++) accountStatuses.push(record(await post(port, { email: 'target@demo.example' }, '10.0.0.1')));
  const ipStatuses: number[] = [];
  for (let i = 0; i < IP_LIMIT * 2 + 2; i++) ipStatuses.push(record(await post(port, { email: `user${i}@demo.example` }, '10.9.9.9')));
  const softDelays: number[] = [];
  for (let i = 0; i < SOFT_LIMIT + 3; i++) {
    const r = await post(port, { response: { id: 'victim-credential' } }, `10.1.0.${i + 1}`, '/api/signin/verify');
    record(r);
    softDelays.push(r.throttledMs);
  }
  const result: ClusterScenarioResult = {
    accountLimit: ACCOUNT_LIMIT,
    ipLimit: IP_LIMIT,
    servedBy: [...servedBy].sort(),
    accountStatuses,
    ipStatuses,
    softLimit: SOFT_LIMIT,
    softDelays,
    retryAfter,
    problemCodes,
    loggedUnshared: listening.some((l) => l.loggedUnshared),
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  for (const w of Object.values(cluster.workers ?? {})) w?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

function worker(): void {
  let logged = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged += chunk.toString('utf8');
      done();
    },
  });
  const log = createLogger('warn', sink);
  const config = loadConfig({
    GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE: String(ACCOUNT_LIMIT),
    GATEWAY_RATE_LIMIT_IP_PER_MINUTE: String(IP_LIMIT),
    GATEWAY_RATE_LIMIT_ACCOUNT_SOFT_PER_MINUTE: String(SOFT_LIMIT),
    GATEWAY_LOG_LEVEL: 'warn',
    GATEWAY_TRUST_PROXY: 'loopback',
  });
  const shared = process.env['SCENARIO_SHARED'] === '1' ? SqliteStore.open(process.env['SCENARIO_DB'] ?? '') : undefined;
  const limits = ceremonyRateLimits({ config, clock: systemClock, log, ...(shared ? { counters: shared.ephemeral.limits } : {}) });
  const app = express();
  app.set('trust proxy', config.trustProxy);
  app.use((_req, res, next) => {
    res.setHeader('x-worker', String(cluster.worker?.id ?? 0));
    next();
  });
  // The same order as server/app.ts: per IP, body parser, per account.
  const api = express.Router();
  api.use(CEREMONY_API_PATHS, limits.apiPerIp);
  api.use(express.json());
  api.use(CEREMONY_API_PATHS, limits.apiPerAccount);
  api.post('/signin/options', (_req, res) => {
    res.json({ ok: true });
  });
  // A failed sign-in (what an attacker's junk gets), saying how long the soft limit held it.
  api.post('/signin/verify', (_req, res) => {
    const throttled: unknown = res.locals['throttledMs'];
    res.status(401).json({ code: 'SIGNIN_FAILED', throttledMs: typeof throttled === 'number' ? throttled : 0 });
  });
  app.use('/api', api);
  app.use(errorBoundary(log, 'en'));
  const server = app.listen(0, '127.0.0.1', () => {
    const message: Listening = { kind: 'listening', port: (server.address() as AddressInfo).port, loggedUnshared: logged.includes('no shared counters') };
    process.send?.(message);
  });
}

if (cluster.isPrimary) await primary();
else worker();
