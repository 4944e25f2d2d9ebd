/**
 * Where a sign-in's time goes: each stage of the gateway's sign-in path timed on its own, one
 * sign-in at a time, against the run's real database (WAL, synchronous=FULL) and the real SoftHSM
 * token, in a separate process while the gateway is stopped (same code path as the routes call):
 *
 *   options     flows/signin/beginSignIn: options + the challenge into the ephemeral store (no fsync)
 *   verify      verifyAssertion: SimpleWebAuthn's assertion check (pure, no I/O)
   (and beside it, not a stage: the CPU of that check and of the same assertion checked by
 *               SimpleWebAuthn's verifyAuthenticationResponse alone, as the in-memory reference
 *               calls it, taking turns in going first: what the gateway's own checks add, without
 *               the load that skews the profiles)
 *   complete    flows/signin/completeSignIn with an audience, minus verify and hsm: the challenge
 *               consumed, the key read once, then ONE commit (counter, session, both audit events)
 *   hsm         KeyManager.signJws: claims as JWS, signed by the HSM's active key
 *   token-audit flows/tokens/issueToken (POST /api/tokens) minus hsm: the token's audit event, committed
 *   session     flows/sessions/resolveSession (what every later request of the session reads)
 *   http        an HTTP round trip through Express + helmet + express.json with a body of the
 *               same size and no work (a ceremony makes two)
 *   commit      one durable write through the store port (1 row) on a scratch database in the same
 *               directory, opened as the gateway opens its own: the fsync floor each commit pays
 *
 * Parent side: runStageBreakdown() forks this file and reads its result over IPC.
 */
import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import express from 'express';
import helmet from 'helmet';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyAssertion } from '../../server/ceremonies/index.js';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime } from '../../server/runtime.js';
import { resolveSession } from '../../server/flows/sessions/resolveSession.js';
import { beginSignIn } from '../../server/flows/signin/beginSignIn.js';
import { completeSignIn } from '../../server/flows/signin/completeSignIn.js';
import { COMMIT_SIGN_IN } from '../../server/store/postgres/signIns.js';
import { issueToken } from '../../server/flows/tokens/issueToken.js';
import { openStore } from '../../server/store/openStore.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { identityTokenClaims } from '../../server/tokens/identityToken.js';
import { tapStatements } from '../../test/support/driverTap.js';
import { SoftAuthenticator } from '../../test/support/softAuthenticator.js';
import { BrowserClient } from './browserClient.js';
import { requestOptionsOf } from './ceremonies.js';
import { track } from './children.js';
import { type BenchCredential, parseCredential } from './protocol.js';
import { summarise, type LatencySummary } from './stats.js';

export const STAGES = ['options', 'verify', 'complete', 'hsm', 'token-audit', 'session', 'http', 'commit', 'authenticator'] as const;
export type Stage = (typeof STAGES)[number];
export type StageFigures = Record<Stage, LatencySummary> & {
  /** Database round trips (statements, BEGIN and COMMIT included) of the sign-in's two flows, per sign-in. */
  statements: { options: number; complete: number; durableCommits: number };
  /** CPU (ms, every thread of the process) of one WebAuthn check: the gateway's verifyAssertion, and the library's call alone as the reference makes it. */
  verifyCpu: { gateway: LatencySummary; library: LatencySummary };
};

interface StageRequest {
  varDir: string;
  /** PostgreSQL: the run's database (GATEWAY_DATABASE_URL); absent, SQLite in varDir. */
  databaseUrl?: string;
  iterations: number;
  audience: string;
  credentials: BenchCredential[];
}

/**
 * Database round trips made by this process: every pg query (BEGIN and COMMIT included) and every
 * better-sqlite3 statement run or exec (test/support/driverTap.ts, which wraps the drivers'
 * prototypes in this process only, the stage benchmark's own, never in the gateway).
 */
const roundTrips = { n: 0, durable: 0 };
/**
 * A durable write transaction begins: SQLite's BEGIN IMMEDIATE on the gateway's file, PostgreSQL's
 * BEGIN that is not READ ONLY, or PostgreSQL's one-statement sign-in write (its own transaction).
 */
function isDurableBegin(text: string): boolean {
  return /^BEGIN IMMEDIATE/.test(text) || (/^BEGIN ISOLATION/.test(text) && !text.includes('READ ONLY')) || text === COMMIT_SIGN_IN;
}
/** BENCH_SQL_LOG=FILE: every distinct SQLite statement the stages ran is written there (scripts/bench/growthProbe.ts explains them). */
const sqlLog = process.env['BENCH_SQL_LOG'];
const sqlSeen: Set<string> | undefined = sqlLog ? new Set() : undefined;

function countRoundTrips(): void {
  tapStatements((sql, via) => {
    roundTrips.n += 1;
    if (via === 'sqlite-exec') return;
    if (isDurableBegin(sql)) roundTrips.durable += 1;
    if (via === 'sqlite-statement') sqlSeen?.add(sql);
  });
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function measure(req: StageRequest): Promise<StageFigures> {
  const origin = 'http://localhost:3000';
  const config = loadConfig(
    {
      GATEWAY_VAR_DIR: req.varDir,
      GATEWAY_ORIGIN: origin,
      GATEWAY_LOG_LEVEL: 'silent',
      GATEWAY_SEED_DEMO: 'false',
      ...(req.databaseUrl ? { GATEWAY_DATABASE_URL: req.databaseUrl } : {}),
      ...(process.env['GATEWAY_HSM_PIN'] ? {} : { GATEWAY_HSM_PIN_FILE: process.env['GATEWAY_HSM_PIN_FILE'] ?? path.join(repoRoot, 'var', 'hsm-user.pin') }),
    },
    repoRoot,
  );
  const runtime = await createRuntime(config, { log: createLogger('silent'), withHsm: true, initialKey: false });
  const times: Record<Stage, number[]> = Object.fromEntries(STAGES.map((s) => [s, [] as number[]])) as Record<Stage, number[]>;
  const verifyCpu = { gateway: [] as number[], library: [] as number[] };
  const members = req.credentials.map(({ email, credential }) => {
    const auth = new SoftAuthenticator();
    auth.importCredential(credential);
    return { email, auth };
  });
  const { flows, store, keys } = runtime;
  const statements = { options: 0, complete: 0, durableCommits: 0 };
  if (!keys) throw new Error('stage breakdown: the runtime has no HSM');
  const organisation = async (id: string) => {
    const org = await store.read((tx) => tx.organisations.get(id));
    if (!org) throw new Error('no organisation');
    return org;
  };
  try {
    for (let i = 0; i < req.iterations + 5; i += 1) {
      const warm = i < 5;
      const member = members[i % members.length];
      if (!member) throw new Error('stage breakdown: no keys');
      const flow = randomBytes(32).toString('base64url');
      let t = performance.now();
      let n0 = roundTrips.n;
      const d0 = roundTrips.durable;
      const opts = await beginSignIn(flows, { email: member.email, flowId: flow });
      const tOptions = performance.now() - t;
      if (!warm) statements.options += roundTrips.n - n0;
      const options = requestOptionsOf(opts);
      if (!options) throw new Error('stage breakdown: no options');
      t = performance.now();
      const response = await member.auth.getAssertion(options, origin);
      const tAuthenticator = performance.now() - t;
      const key = await store.read((tx) => tx.credentials.byCredentialId(response.id));
      if (!key) throw new Error('stage breakdown: unknown key');
      const cpuMs = (since: NodeJS.CpuUsage): number => {
        const d = process.cpuUsage(since);
        return (d.user + d.system) / 1000;
      };
      const gatewayCheck = async (): Promise<number> => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await verifyAssertion(response, { challenge: options.challenge, origin: config.origin, rpId: config.rpId }, key);
        if (!warm) verifyCpu.gateway.push(cpuMs(c0));
        return performance.now() - t0;
      };
      const libraryCheck = async (): Promise<void> => {
        const c0 = process.cpuUsage();
        const checked = await verifyAuthenticationResponse({
          response,
          expectedChallenge: options.challenge,
          expectedOrigin: config.origin,
          expectedRPID: config.rpId,
          requireUserVerification: true,
          credential: { id: key.credentialId, publicKey: new Uint8Array(key.publicKey), counter: 0 },
        });
        if (!checked.verified) throw new Error('stage breakdown: the library refused the assertion');
        if (!warm) verifyCpu.library.push(cpuMs(c0));
      };
      // Taking turns in going first: neither check gets the other's warm caches every time.
      let tVerify: number;
      if (i % 2 === 0) {
        tVerify = await gatewayCheck();
        await libraryCheck();
      } else {
        await libraryCheck();
        tVerify = await gatewayCheck();
      }
      t = performance.now();
      n0 = roundTrips.n;
      const issued = await completeSignIn(flows, { flowId: flow, response, audience: req.audience });
      const tComplete = performance.now() - t;
      if (!warm) statements.complete += roundTrips.n - n0;
      if (!warm) statements.durableCommits += roundTrips.durable - d0;
      t = performance.now();
      const view = await resolveSession(flows, issued.sessionId);
      const tSession = performance.now() - t;
      if (!view) throw new Error('stage breakdown: no session');
      const claims = identityTokenClaims({
        issuer: config.origin,
        audience: req.audience,
        identity: view.identity,
        organisation: await organisation(view.identity.organisationId),
        authTime: new Date(view.session.createdAt),
        aal: view.session.aal,
        amr: view.session.amr,
        fal: config.federationLevel,
        now: new Date(),
        ttlSeconds: config.tokenTtlSeconds,
      });
      t = performance.now();
      await keys.signJws(claims);
      const tHsm = performance.now() - t;
      t = performance.now();
      await issueToken(flows, view, req.audience);
      const tIssue = performance.now() - t;
      if (warm) continue;
      times.options.push(tOptions);
      times.authenticator.push(tAuthenticator);
      times.verify.push(tVerify);
      times.complete.push(Math.max(0, tComplete - tVerify - tHsm));
      times.session.push(tSession);
      times.hsm.push(tHsm);
      times['token-audit'].push(Math.max(0, tIssue - tHsm));
    }
  } finally {
    await runtime.close();
  }

  // One-row commits through the port, one at a time: on PostgreSQL into the run's database, on
  // SQLite into a scratch database next to the gateway's (same file system, opened as the
  // gateway opens its own).
  if (req.databaseUrl) {
    const pgStore = await openStore(config);
    try {
      for (let i = 0; i < req.iterations + 5; i += 1) {
        const t = performance.now();
        await pgStore.write((tx) => tx.leases.acquire(`floor-${process.pid}-${i}`, randomBytes(8).toString('hex'), '9999-01-01T00:00:00.000Z', new Date().toISOString()));
        if (i >= 5) times.commit.push(performance.now() - t);
      }
    } finally {
      await pgStore.close();
    }
  }
  const scratch = path.join(req.varDir, `commit-floor-${process.pid}.db`);
  const floor = SqliteStore.open(scratch);
  try {
    for (let i = 0; i < (req.databaseUrl ? 0 : req.iterations + 5); i += 1) {
      const t = performance.now();
      await floor.write((tx) => tx.leases.acquire(`floor-${i}`, randomBytes(8).toString('hex'), '9999-01-01T00:00:00.000Z', new Date().toISOString()));
      if (i >= 5) times.commit.push(performance.now() - t);
    }
  } finally {
    await floor.close();
    for (const f of [scratch, scratch.replace(/\.db$/, '-ephemeral.db')]) for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${f}${suffix}`, { force: true });
  }

  // A bare Express round trip with the gateway's body parser and security headers, no work.
  const app = express();
  app.use(helmet());
  app.use(express.json({ limit: 65536 }));
  app.post('/echo', (_req, res) => {
    res.json({ ok: true, identity: { id: 'x'.repeat(36), name: 'Bench Employee', email: 'someone@bench.example' }, token: 'x'.repeat(600) });
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const client = new BrowserClient(`http://localhost:${(server.address() as AddressInfo).port}`, agent);
  const body = { response: { id: 'x'.repeat(43), response: { clientDataJSON: 'x'.repeat(200), authenticatorData: 'x'.repeat(50), signature: 'x'.repeat(96) } }, audience: req.audience };
  for (let i = 0; i < req.iterations + 5; i += 1) {
    const t = performance.now();
    await client.post('/echo', body);
    if (i >= 5) times.http.push(performance.now() - t);
  }
  agent.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));

  const per = Math.max(1, req.iterations);
  return {
    ...(Object.fromEntries(STAGES.map((s) => [s, summarise(times[s])])) as Record<Stage, LatencySummary>),
    statements: { options: statements.options / per, complete: statements.complete / per, durableCommits: statements.durableCommits / per },
    verifyCpu: { gateway: summarise(verifyCpu.gateway), library: summarise(verifyCpu.library) },
  };
}

function parseRequest(raw: unknown): StageRequest | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r['varDir'] !== 'string' || typeof r['iterations'] !== 'number' || typeof r['audience'] !== 'string' || !Array.isArray(r['credentials'])) return undefined;
  if (r['databaseUrl'] !== undefined && typeof r['databaseUrl'] !== 'string') return undefined;
  const credentials = r['credentials'].map(parseCredential);
  if (credentials.some((c) => c === undefined)) return undefined;
  return {
    varDir: r['varDir'],
    iterations: r['iterations'],
    audience: r['audience'],
    credentials: credentials.filter((c): c is BenchCredential => c !== undefined),
    ...(typeof r['databaseUrl'] === 'string' ? { databaseUrl: r['databaseUrl'] } : {}),
  };
}

function isStageFigures(v: unknown): v is StageFigures {
  return typeof v === 'object' && v !== null && STAGES.every((s) => s in v) && 'statements' in v;
}

/** Parent side: runs the stage benchmark in its own process. */
export function runStageBreakdown(request: StageRequest): Promise<StageFigures> {
  return new Promise((resolve, reject) => {
    const child = track(fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    child.once('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'error' in m) reject(new Error(`stage breakdown: ${String(m.error)}`));
      else if (typeof m === 'object' && m !== null && 'figures' in m && isStageFigures(m.figures)) resolve(m.figures);
      else reject(new Error('stage breakdown: unexpected answer'));
      child.disconnect();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stage breakdown exited (${code})`));
    });
    // Bounded: a stage that never returns (a lock, a pool that ran dry) ends this table, not the run.
    const timer = setTimeout(() => {
      reject(new Error(`stage breakdown: no answer within ${STAGE_DEADLINE_MS / 60_000} min`));
      child.kill('SIGKILL');
    }, STAGE_DEADLINE_MS);
    child.send(request);
  });
}

const STAGE_DEADLINE_MS = 10 * 60_000;

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  countRoundTrips();
  process.once('message', (raw: unknown) => {
    const request = parseRequest(raw);
    if (!request) {
      process.send?.({ error: 'bad request' });
      return;
    }
    measure(request).then(
      (figures) => {
        if (sqlLog && sqlSeen) fs.writeFileSync(sqlLog, JSON.stringify([...sqlSeen]), { mode: 0o600 });
        process.send?.({ figures });
      },
      (err: unknown) => process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
}
