/**
 * A real gateway for integration and browser tests: the same runtime as production (real SQLite
 * file, real SoftHSM token, real outbox sink writing files), in-process, on an ephemeral port of
 * 127.0.0.1, with its own temporary var/ directory. Tests read its state through the store port
 * (storeReads.ts) and, where they assert what only SQLite has, sqliteInspection.ts.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../server/clock.js';
import { loadConfig } from '../../server/config.js';
import { createLogger, type Logger } from '../../server/logger.js';
import type { OutboxSink } from '../../server/outbox/index.js';
import { createRuntime, seedDemo, type DemoSeed, type Runtime } from '../../server/runtime.js';
import { gatewayDatabase, storeEnv, type StoreRef } from './backend.js';
import { closeDbInspection } from './dbInspection.js';
import { enrolmentLinkIn } from './journeys.js';
import { closeInspection } from './sqliteInspection.js';
import { read } from './storeReads.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TestGateway {
  runtime: Runtime;
  origin: string;
  varDir: string;
  seed: DemoSeed;
  /** Where its store lives: the SQLite file, or (GATEWAY_TEST_BACKEND=postgres) its own PostgreSQL database. */
  storeRef: StoreRef;
  /** The environment that points a tool (a script, a worker) at the same store. */
  storeEnv: Record<string, string>;
  /** Reads every delivered mail for `to` (after flushing the outbox), oldest first. */
  mailsTo(to: string): Promise<{ subject: string; kind: string; text: string; file: string }[]>;
  /** The 8-digit code in the newest activation/reactivation mail to `to`. */
  latestCode(to: string): Promise<string>;
  /** The link in the newest enrolment mail to `to`. */
  latestEnrolmentLink(to: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestGateway(
  opts: { env?: Record<string, string>; clock?: Clock; sink?: OutboxSink; withClient?: boolean; withHsm?: boolean; log?: Logger } = {},
): Promise<TestGateway> {
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-test-'));
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const database = await gatewayDatabase(varDir);
  const env = {
    GATEWAY_PORT: String(port),
    GATEWAY_ORIGIN: `http://localhost:${port}`,
    GATEWAY_VAR_DIR: varDir,
    GATEWAY_HSM_PIN_FILE: path.join(repoRoot, 'var', 'hsm-user.pin'),
    GATEWAY_LOG_LEVEL: 'silent',
    // Tests run many ceremonies a second from 127.0.0.1 with a few accounts: limits high enough
    // never to bite, but on, so every test goes through the limiters. The brute-force test sets
    // real small limits.
    GATEWAY_RATE_LIMIT_IP_PER_MINUTE: '10000000',
    GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE: '10000000',
    GATEWAY_RATE_LIMIT_ACCOUNT_SOFT_PER_MINUTE: '10000000',
    ...database.env,
    ...opts.env,
  };
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env, repoRoot);
  } catch (err) {
    // A refused configuration must not leave the listening socket keeping the test process alive.
    server.close();
    await database.drop();
    fs.rmSync(varDir, { recursive: true, force: true });
    throw err;
  }
  if (!process.env['SOFTHSM2_CONF']) process.env['SOFTHSM2_CONF'] = path.join(repoRoot, 'var', 'softhsm2.conf');
  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, {
      log: opts.log ?? createLogger(config.logLevel),
      withHsm: opts.withHsm ?? true,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.sink ? { sink: opts.sink } : {}),
      ...(opts.withClient ? { clientDir: path.join(repoRoot, 'client', 'dist') } : {}),
    });
  } catch (err) {
    server.close();
    await database.drop();
    fs.rmSync(varDir, { recursive: true, force: true });
    throw err;
  }
  server.on('request', runtime.app);
  const seed = await seedDemo(runtime);

  const mailsTo = async (to: string) => {
    await runtime.outbox.flush();
    const dir = config.outboxDir;
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .sort()
      .map((f) => ({ file: path.join(dir, f), raw: fs.readFileSync(path.join(dir, f), 'utf8') }))
      .map(({ file, raw }) => {
        const [head = '', ...rest] = raw.split('\r\n\r\n');
        const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(head)?.[1] ?? '';
        return { file, to: header('To'), subject: header('Subject'), kind: header('X-Gateway-Kind'), text: rest.join('\r\n\r\n') };
      })
      .filter((m) => m.to === to);
  };

  return {
    runtime,
    origin: config.origin,
    varDir,
    seed,
    storeRef: database.ref,
    storeEnv: storeEnv(database.ref),
    mailsTo,
    async latestCode(to: string) {
      const mails = (await mailsTo(to)).filter((m) => m.kind === 'activation-code' || m.kind === 'reactivation-code');
      const last = mails[mails.length - 1];
      const match = last ? /^\s+(\d{4}) (\d{4})\s*$/m.exec(last.text) : null;
      if (!match) throw new Error(`no activation code mailed to ${to}`);
      return `${match[1]}${match[2]}`;
    },
    async latestEnrolmentLink(to: string) {
      const mails = (await mailsTo(to)).filter((m) => m.kind === 'enrolment-link');
      const link = enrolmentLinkIn(mails[mails.length - 1]?.text ?? '');
      if (!link) throw new Error(`no enrolment link mailed to ${to}`);
      return link;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      // This gateway's signing keys live on the shared development token: destroy them so that
      // test runs do not pile up key objects.
      if (runtime.hsm) {
        for (const k of await read(runtime.store, (tx) => tx.signingKeys.list())) {
          if (k.state !== 'destroyed') await runtime.hsm.destroyEverywhere(k.ckaId).catch(() => []);
        }
        // And the SAML identity provider's RSA keys (issue 15).
        for (const k of await read(runtime.store, (tx) => tx.saml.keys())) {
          if (k.state !== 'destroyed') await runtime.hsm.destroyEverywhere(k.ckaId).catch(() => []);
        }
      }
      await runtime.close();
      closeInspection(config.dbFile);
      await closeDbInspection(database.ref);
      await database.drop();
      fs.rmSync(varDir, { recursive: true, force: true });
    },
  };
}
