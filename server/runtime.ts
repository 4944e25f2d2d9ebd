/**
 * Wires the ports together: store, secret key, outbox, HSM, core, HTTP app. Used by main.ts and
 * by the integration and browser tests, so the tests run exactly what production runs.
 */
import { type HsmGroup, applySoftHsm2ConfDefault } from '../hsm/index.js';
import { buildApp } from './app.js';
import { GatewayMetrics } from './http/metrics.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigError, type Config } from './config.js';
import { AssuranceService, type MetadataLookup } from './assurance/AssuranceService.js';
import { MetadataMonitor } from './assurance/MetadataMonitor.js';
import { AuditCheckpointer } from './audit/Checkpointer.js';
import { AuditAlarms } from './audit/alarm.js';
import { DirectoryWitness, HttpWitness } from './audit/witness.js';
import { Gateway } from './core/Gateway.js';
import { StaffConsole } from './core/StaffConsole.js';
import { Approvals } from './approvals/Approvals.js';
import { registerOidcClientExecutor } from './oidc/clientChange.js';
import { KeyManager } from './keys/KeyManager.js';
import { openHsm } from './keys/openHsm.js';
import { TokenIssuer } from './tokens/TokenIssuer.js';
import { OpenIdProvider } from './oidc/OpenIdProvider.js';
import { loadClientsFile } from './oidc/clientsFile.js';
import { SYSTEM_ACTOR, type Identity } from './domain/types.js';
import type { Logger } from './logger.js';
import { FileSink, OutboxDispatcher, SmtpSink, type OutboxSink } from './outbox/index.js';
import { loadOrCreateSecretKey } from './security/secretKey.js';
import { onPeer, tellPeers } from './cluster/index.js';
import { Store } from './store/index.js';
import type express from 'express';
import { createHmac } from 'node:crypto';
import { DeviceCookies } from './http/deviceCookie.js';

export interface Runtime {
  config: Readonly<Config>;
  store: Store;
  gateway: Gateway;
  outbox: OutboxDispatcher;
  /** The HSM tokens, one or several holding the same keys (failover). */
  hsm: HsmGroup | undefined;
  keys: KeyManager | undefined;
  tokens: TokenIssuer | undefined;
  checkpointer: AuditCheckpointer | undefined;
  oidc: OpenIdProvider | undefined;
  metadata: MetadataMonitor | undefined;
  assurance: AssuranceService;
  /** The one approvals mechanism (separation of duties). */
  approvals: Approvals;
  staff: StaffConsole;
  app: express.Express;
  /** Prometheus figures of this runtime (GET /metrics). */
  metrics: GatewayMetrics;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  log: Logger;
  clock?: Clock;
  /** Open the HSM token (default true). */
  withHsm?: boolean;
  clientDir?: string;
  sink?: OutboxSink;
  /** FIDO metadata for the attestation policy (none: no key reaches High). */
  metadata?: MetadataLookup;
  /** Generate and activate a first signing key when there is none (default true; tools pass false). */
  initialKey?: boolean;
  /**
   * A cluster worker: the primary already made the start-up's audited actions (FIDO metadata
   * load, OIDC clients file), so the worker only loads the metadata into memory.
   */
  clusterWorker?: boolean;
}

export async function createRuntime(config: Readonly<Config>, opts: RuntimeOptions): Promise<Runtime> {
  const clock = opts.clock ?? systemClock;
  const closers: (() => void)[] = [];
  if (config.database) {
    // Issue 14: the PostgreSQL engine plumbing is in (server/store/postgres/), its repositories
    // over the store port are not; never fall back to SQLite silently when PostgreSQL was asked for.
    throw new ConfigError('GATEWAY_DATABASE_URL', 'selects PostgreSQL, whose store repositories this build does not have yet; unset it to run on SQLite');
  }
  const store = Store.open(config.dbFile);
  const secretKey = loadOrCreateSecretKey(config.secretFile);
  const sink: OutboxSink =
    opts.sink ?? (config.smtp ? new SmtpSink(config.smtp) : new FileSink(config.outboxDir, `Local IdP <no-reply@${config.rpId}>`));
  const outbox = new OutboxDispatcher(store, sink, clock, opts.log);
  // Observers, not dependencies: the core and the HSM port report, the metrics count.
  const metrics = new GatewayMetrics();
  let hsm: HsmGroup | undefined;
  if (opts.withHsm ?? true) {
    applySoftHsm2ConfDefault(process.env, config.varDir);
    try {
      hsm = await openHsm(config.hsm, opts.log, {
        // Reconnect within seconds of the HSM's return, in step with the 503's Retry-After.
        connection: { reconnect: { maxDelayMs: 5000 } },
        onFailover: metrics.onHsmFailover,
      });
    } catch (err) {
      store.close();
      throw err;
    }
  }
  const monitor = MetadataMonitor.fromConfig({ config, clock, log: opts.log, store });
  if (opts.clusterWorker) await monitor?.refresh();
  else await monitor?.reload();
  if (monitor) {
    // Cluster: a reload in one worker (security page, or worker 0's schedule) reaches the others.
    monitor.onReloaded = () => tellPeers('metadata-reloaded');
    const stopListening = onPeer('metadata-reloaded', () => {
      monitor.refresh().catch((err: unknown) => opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'metadata refresh failed'));
    });
    closers.push(stopListening);
  }
  const assurance = new AssuranceService(config.attestation, opts.metadata ?? monitor?.metadata, clock);
  const gateway = new Gateway({ assurance, store, clock, outbox, secretKey, config, log: opts.log });
  // Issue 13, 5: activation codes are minted at delivery, never stored in clear.
  outbox.secretMinter = (ref) => gateway.mintSecret(ref);
  gateway.onEvent = metrics.onGatewayEvent;
  const hsmForStatus = hsm;
  if (hsmForStatus) metrics.watchHsm(() => hsmForStatus.status, () => hsmForStatus.tokens());
  monitor?.apply(gateway, assurance);
  const approvals = new Approvals({ store, clock, config, outbox });
  const staff = new StaffConsole({ store, gateway, clock, config, approvals });
  let keys: KeyManager | undefined;
  let tokens: TokenIssuer | undefined;
  let checkpointer: AuditCheckpointer | undefined;
  let oidc: OpenIdProvider | undefined;
  if (hsm) {
    keys = new KeyManager({ store, hsm, clock, config, log: opts.log, approvals, onSign: metrics.onHsmSign });
    const km = keys;
    outbox.receiptSigner = async (claims) => (await km.signJws({ ...claims, iss: config.origin, iat: Math.floor(clock.now().getTime() / 1000) }, 'receipt+jwt')).jws;
    tokens = new TokenIssuer({ store, keys, clock, config });
    const alarms = new AuditAlarms({
      store,
      clock,
      log: opts.log,
      onRefusal: metrics.onAuditRefusal,
      onState: metrics.onAuditAlarmState,
      kickOutbox: () => outbox.kick(),
    });
    checkpointer = new AuditCheckpointer({
      store,
      keys,
      clock,
      config,
      log: opts.log,
      alarms,
      witness: new DirectoryWitness(config.auditWitnessDir),
      remote: config.auditWitnessUrl ? new HttpWitness(config.auditWitnessUrl, config.auditWitnessToken) : undefined,
      onWitnessFailure: metrics.onWitnessFailure,
    });
    oidc = new OpenIdProvider({ store, gateway, keys, clock, config, log: opts.log, secretKey });
    const op = oidc;
    registerOidcClientExecutor(approvals, op, store);
    // NSIS 6: suspending or revoking a key, or ending a binding, ends its sessions at every RP too.
    gateway.onSessionsEnded = (sessions) => {
      op.backchannelLogout(sessions).catch((err: unknown) => opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'back-channel logout failed'));
    };
    try {
      // The gateway's own start (not a tool, not each cluster worker) records the HSM tokens and the key policy.
      if ((opts.initialKey ?? true) && !opts.clusterWorker) keys.auditHsmConfiguration();
      if (config.oidcClientsFile && !opts.clusterWorker) await loadClientsFile(op, config.oidcClientsFile);
      if (opts.initialKey ?? true) {
        await keys.ensureInitialKey();
        // Key rows from before signed key records get theirs (once; audited).
        await keys.registerUnrecordedKeys();
        // NSIS 4.1.6 (Low) 3 at start-up: loading the active key reads its attributes back; a key
        // that is extractable or not sensitive stops the gateway here rather than sign anything.
        await keys.activeSigner();
      }
    } catch (err) {
      // Nothing half-started: release the HSM sessions and the database before failing.
      await hsm.close();
      store.close();
      throw err;
    }
  }
  const app = buildApp({
    gateway,
    config,
    log: opts.log,
    hsm,
    keys,
    tokens,
    checkpointer,
    oidc,
    metadata: monitor,
    assurance,
    schemaVersion: () => store.schemaVersion(),
    db: store.db,
    staff,
    approvals,
    clock,
    ...(opts.clientDir ? { clientDir: opts.clientDir } : {}),
    metrics,
    devices: new DeviceCookies(createHmac('sha256', secretKey).update('device-cookie').digest()),
  });
  return {
    config,
    store,
    gateway,
    outbox,
    hsm,
    keys,
    tokens,
    checkpointer,
    oidc,
    metadata: monitor,
    assurance,
    approvals,
    staff,
    app,
    metrics,
    async close() {
      for (const c of closers) c();
      monitor?.close();
      await checkpointer?.close();
      await outbox.close();
      await hsm?.close();
      store.close();
    },
  };
}

export interface DemoSeed {
  organisation: { cvr: string; name: string };
  admin: Identity;
  /** A fresh one-time link when the administrator has no usable key yet. */
  enrolmentLink: string | undefined;
  enrolmentExpiresAt: string | undefined;
}

/**
 * Seeds the demo organisation and its first administrator. Until the administrator has registered
 * a key, every start issues a fresh one-time link (withdrawing the previous one). After that, a
 * start never issues one: an administrator who lost every key gets back in with
 * `npm run recover-admin` (HSM PIN, audited, every staff member told).
 */
export function seedDemo(runtime: Runtime): DemoSeed {
  const { gateway, store, config } = runtime;
  const org = gateway.ensureOrganisation(config.demo.orgCvr, config.demo.orgName);
  const admin =
    store.findActiveIdentityByEmail(config.demo.adminEmail) ??
    gateway.createIdentity(SYSTEM_ACTOR, {
      organisationId: org.id,
      name: config.demo.adminName,
      email: config.demo.adminEmail,
      ial: 'substantial',
      proofingMethod: 'Designated as first administrator by the operator who installed the gateway (bootstrap)',
      roles: ['org-admin', 'helpdesk', 'security-officer'],
    });
  const enrolledOnce = store.listCredentialsOfIdentity(admin.id).length > 0;
  if (enrolledOnce) return { organisation: { cvr: org.cvr, name: org.name }, admin, enrolmentLink: undefined, enrolmentExpiresAt: undefined };
  const enrolment = gateway.issueOperatorEnrolment(admin.id);
  return { organisation: { cvr: org.cvr, name: org.name }, admin, enrolmentLink: enrolment.link, enrolmentExpiresAt: enrolment.expiresAt };
}
