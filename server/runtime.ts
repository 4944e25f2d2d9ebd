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
import { Approvals } from './approvals/Approvals.js';
import type { ConsoleDeps } from './flows/consoleDeps.js';
import type { SessionRecord } from './domain/sessions.js';
import { mintSecret } from './flows/delivery/mintSecret.js';
import { createIdentity } from './flows/identities/createIdentity.js';
import { ensureOrganisation } from './flows/identities/ensureOrganisation.js';
import { issueOperatorEnrolment } from './flows/enrolment/issueEnrolment.js';
import { registerStaffExecutors } from './flows/staff/executors.js';
import { registerOidcClientExecutor } from './oidc/clientChange.js';
import { KeyManager } from './keys/KeyManager.js';
import { openHsm } from './keys/openHsm.js';
import { OpenIdProvider } from './oidc/OpenIdProvider.js';
import { loadClientsFile } from './oidc/clientsFile.js';
import { SYSTEM_ACTOR, type Identity } from './domain/types.js';
import type { Logger } from './logger.js';
import { FileSink, OutboxDispatcher, SmtpSink, type OutboxSink } from './outbox/index.js';
import { loadOrCreateSecretKey } from './security/secretKey.js';
import { onPeer, tellPeers } from './cluster/index.js';
import type { Store } from './ports/store.js';
import { openStore } from './store/openStore.js';
import type express from 'express';
import { createHmac } from 'node:crypto';
import { DeviceCookies } from './http/deviceCookie.js';
import { SamlKeyRing } from './keys/SamlKeyRing.js';
import type { SamlDeps } from './flows/saml/samlDeps.js';
import { loadSpFile } from './flows/saml/spFile.js';
import { registerSamlExecutors } from './flows/saml/samlDuties.js';
import { IdmDispatcher } from './idm/dispatcher.js';
import { backfillIdmPeople } from './flows/idm/backfillIdmPeople.js';
import { reconcileGroupRoles } from './flows/provisioning/reconcileGroupRoles.js';
import { GroupRoleTableInForce, recordedGroupRoleTable } from './flows/provisioning/groupRoleTable.js';
import { GroupRoleFileWatcher } from './flows/provisioning/groupRoleFileWatcher.js';
import { connectIdm } from './idm/connect.js';
import { IdmReconciler } from './idm/reconciler.js';

/** No HSM token readable at start: how long its reconnections get before the start fails (ms). */
const HSM_START_WAIT_MS = 10_000;

export interface Runtime {
  config: Readonly<Config>;
  /** The store port (server/ports/store.ts) over the configured adapter. */
  store: Store;
  /** What every flow (server/flows/) is given: the ports, and the approvals mechanism. */
  flows: ConsoleDeps;
  outbox: OutboxDispatcher;
  /** The HSM tokens, one or several holding the same keys (failover). */
  hsm: HsmGroup | undefined;
  keys: KeyManager | undefined;
  checkpointer: AuditCheckpointer | undefined;
  oidc: OpenIdProvider | undefined;
  /** The OIOSAML 3 identity provider (GATEWAY_SAML_ENABLED and an HSM). */
  saml: SamlDeps | undefined;
  metadata: MetadataMonitor | undefined;
  assurance: AssuranceService;
  /** The one approvals mechanism (separation of duties). */
  approvals: Approvals;
  app: express.Express;
  /** Prometheus figures of this runtime (GET /metrics). */
  metrics: GatewayMetrics;
  /** Issue 18: runs the IdM jobs against MitID Erhverv; absent while the outbound sync is off. */
  idm: IdmDispatcher | undefined;
  /** Issue 18: reconciliation with MitID Erhverv (nightly and on demand); absent while the sync is off. */
  idmReconciler: IdmReconciler | undefined;
  /**
   * Issue 18: follows GATEWAY_SCIM_GROUP_ROLES_FILE while the gateway runs (absent without the
   * file). main.ts starts its polling on worker 0 and reloads on SIGHUP; close() stops it.
   */
  groupRoleFile: GroupRoleFileWatcher | undefined;
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
  /** Gather this process's CPU, memory and event-loop figures for /metrics (default true; the cluster primary's start-up passes false). */
  processFigures?: boolean;
}

export async function createRuntime(config: Readonly<Config>, opts: RuntimeOptions): Promise<Runtime> {
  const clock = opts.clock ?? systemClock;
  const closers: (() => void)[] = [];
  const store = await openStore(config, {
    onHookError: (err) => opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'an after-commit observer failed'),
    log: opts.log,
  });
  const secretKey = loadOrCreateSecretKey(config.secretFile);
  const sink: OutboxSink =
    opts.sink ?? (config.smtp ? new SmtpSink(config.smtp) : new FileSink(config.outboxDir, `Local IdP <no-reply@${config.rpId}>`));
  const outbox = new OutboxDispatcher(store, sink, clock, opts.log);
  // Observers, not dependencies: the core and the HSM port report, the metrics count.
  const metrics = new GatewayMetrics({ processFigures: opts.processFigures ?? true });
  let hsm: HsmGroup | undefined;
  if (opts.withHsm ?? true) {
    applySoftHsm2ConfDefault(process.env, config.varDir);
    try {
      hsm = await openHsm(config.hsm, opts.log, {
        // Reconnect within seconds of the HSM's return, in step with the 503's Retry-After.
        connection: { reconnect: { maxDelayMs: 5000 } },
        // No token readable at start: its reconnections get 10 s before the start fails (a
        // SoftHSM token briefly unreadable while other processes of the cluster write it, an
        // appliance finishing its own start; hsm/HsmGroup.ts, test/hsm/group-start.test.ts).
        startWaitMs: HSM_START_WAIT_MS,
        onFailover: metrics.onHsmFailover,
      });
    } catch (err) {
      await store.close();
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
  // Told after a commit that ended sessions: the OpenID Provider (made below) logs them out at every RP.
  let onSessionsEnded: (sessions: SessionRecord[]) => void = () => undefined;
  let keys: KeyManager | undefined;
  const approvals = new Approvals({ store, clock, config, kickOutbox: () => outbox.kick() });
  const groupRoles = new GroupRoleTableInForce(config.scim.groupRoles);
  const flows: ConsoleDeps = {
    store,
    clock,
    config,
    secretKey,
    log: opts.log,
    assurance,
    approvals,
    groupRoles,
    kickOutbox: () => outbox.kick(),
    observe: metrics.onGatewayEvent,
    sessionsEnded: (sessions) => onSessionsEnded(sessions),
    signToken: undefined,
    population: undefined,
  };
  // Issue 13, 5: activation codes and mailed links are minted at delivery, never stored in clear.
  outbox.secretMinter = (ref) => mintSecret(flows, ref);
  registerStaffExecutors(flows);
  try {
    // A cluster worker started while the file is bad (a replacement, after the primary's checked
    // start) serves the table the store recorded, as its siblings do, instead of failing again and
    // again until the primary gives up; the watcher (worker 0) refuses and audits the file itself.
    const refused = config.scim.groupRolesRefused;
    if (refused !== undefined) {
      groupRoles.set(await recordedGroupRoleTable(store, refused));
      opts.log.warn(
        { rows: groupRoles.current().length, detail: refused },
        'directory group-role file not usable at this worker\'s start; serving the table recorded by the last reconciliation (fix the file: it is read again on the next poll or SIGHUP)',
      );
    }
    // Issue 18: a row removed from GATEWAY_SCIM_GROUP_ROLES_FILE since the last start withdraws the
    // roles only it asked for, now (once across instances: reconcileGroupRoles.ts).
    await reconcileGroupRoles(flows, groupRoles.current());
    // Cluster: the worker that applied a changed file tells the others, which take the recorded table.
    closers.push(
      onPeer('group-roles-changed', () => {
        groupRoles
          .refresh(store)
          .then((changed) => changed && opts.log.info({ rows: groupRoles.current().length, trigger: 'peer' }, 'directory group-role table in force'))
          .catch((err: unknown) => opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'directory group-role table not refreshed; it is at the next change or restart'));
      }),
    );
  } catch (err) {
    for (const c of closers) c();
    monitor?.close();
    await hsm?.close();
    await store.close();
    throw err;
  }
  const hsmForStatus = hsm;
  if (hsmForStatus) metrics.watchHsm(() => hsmForStatus.status, () => hsmForStatus.tokens());
  if (monitor) await monitor.apply(flows, assurance);
  let checkpointer: AuditCheckpointer | undefined;
  let oidc: OpenIdProvider | undefined;
  let saml: SamlDeps | undefined;
  if (hsm) {
    keys = new KeyManager({ store, hsm, clock, config, log: opts.log, approvals, onSign: metrics.onHsmSign });
    const km = keys;
    flows.signToken = (claims) => km.signJws(claims);
    outbox.receiptSigner = async (claims) => (await km.signJws({ ...claims, iss: config.origin, iat: Math.floor(clock.now().getTime() / 1000) }, 'receipt+jwt')).jws;
    const alarms = new AuditAlarms({
      store,
      clock,
      log: opts.log,
      mail: config,
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
    oidc = new OpenIdProvider({ store, clock, config, log: opts.log, secretKey, keys, core: flows });
    const op = oidc;
    registerOidcClientExecutor(approvals, op, store);
    // NSIS 6: suspending or revoking a key, or ending a binding, ends its sessions at every RP too.
    onSessionsEnded = (sessions) => {
      op.backchannelLogout(sessions).catch((err: unknown) => opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'back-channel logout failed'));
    };
    try {
      // The gateway's own start (not a tool, not each cluster worker) records the HSM tokens and the key policy.
      if ((opts.initialKey ?? true) && !opts.clusterWorker) await keys.auditHsmConfiguration();
      if (config.oidcClientsFile && !opts.clusterWorker) await loadClientsFile(op, config.oidcClientsFile);
      if (opts.initialKey ?? true) {
        await keys.ensureInitialKey();
        // Key rows from before signed key records get theirs (once; audited).
        await keys.registerUnrecordedKeys();
        // NSIS 4.1.6 (Low) 3 at start-up: loading the active key reads its attributes back; a key
        // that is extractable or not sensitive stops the gateway here rather than sign anything.
        await keys.activeSigner();
      }
      if (config.saml.enabled) {
        // Issue 15: the SAML signing key (RSA in the HSM) and the configured service providers.
        saml = { core: flows, keys: new SamlKeyRing({ store, hsm, clock, config, log: opts.log }) };
        registerSamlExecutors(approvals, saml);
        if (opts.initialKey ?? true) await saml.keys.ensureInitialKey();
        if (config.saml.spFile && !opts.clusterWorker) await loadSpFile(saml, config.saml.spFile);
      }
    } catch (err) {
      // Nothing half-started: release the HSM sessions and the database before failing.
      await hsm.close();
      await store.close();
      throw err;
    }
  }
  // Issue 18: checks the PKCS#12 (0600, password) at start; the jobs and the nightly
  // reconciliation run on worker 0 (main.ts), the reconciliation under a store lease.
  const idmClient = config.idm.enabled ? connectIdm(config.idm, clock) : undefined;
  const idmReconciler = config.idm.enabled && idmClient ? new IdmReconciler(store, idmClient, clock, opts.log, { hour: config.idm.reconcileHour, timeZone: config.timeZone }, () => backfillIdmPeople(flows)) : undefined;
  flows.idmReconciler = idmReconciler;
  const app = buildApp({
    flows,
    config,
    log: opts.log,
    hsm,
    keys,
    checkpointer,
    oidc,
    saml,
    metadata: monitor,
    assurance,
    clock,
    ...(opts.clientDir ? { clientDir: opts.clientDir } : {}),
    metrics,
    devices: new DeviceCookies(createHmac('sha256', secretKey).update('device-cookie').digest()),
  });
  const groupRoleFile = config.scim.groupRolesFile
    ? new GroupRoleFileWatcher(flows, groupRoles, { file: config.scim.groupRolesFile, pollMs: config.scim.groupRolesPollSeconds * 1000, onApplied: () => tellPeers('group-roles-changed') })
    : undefined;
  const idm = idmClient ? new IdmDispatcher(store, idmClient, clock, opts.log, config.idm.enabled ? config.idm.leaseSeconds * 1000 : undefined) : undefined;
  return {
    config,
    store,
    flows,
    outbox,
    hsm,
    keys,
    checkpointer,
    oidc,
    saml,
    metadata: monitor,
    assurance,
    approvals,
    app,
    metrics,
    idm,
    idmReconciler,
    groupRoleFile,
    async close() {
      for (const c of closers) c();
      await groupRoleFile?.stop();
      idmReconciler?.stop();
      idm?.stop();
      monitor?.close();
      await checkpointer?.close();
      await outbox.close();
      await hsm?.close();
      await store.close();
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
export async function seedDemo(runtime: Runtime): Promise<DemoSeed> {
  const { flows, store, config } = runtime;
  const org = await ensureOrganisation(flows, config.demo.orgCvr, config.demo.orgName);
  const admin =
    (await store.read((tx) => tx.identities.findActiveByEmail(config.demo.adminEmail))) ??
    (await createIdentity(flows, SYSTEM_ACTOR, {
      organisationId: org.id,
      name: config.demo.adminName,
      email: config.demo.adminEmail,
      ial: 'substantial',
      proofingMethod: 'Designated as first administrator by the operator who installed the gateway (bootstrap)',
      roles: ['org-admin', 'helpdesk', 'security-officer'],
    }));
  const enrolledOnce = (await store.read((tx) => tx.credentials.listOfIdentity(admin.id))).length > 0;
  if (enrolledOnce) return { organisation: { cvr: org.cvr, name: org.name }, admin, enrolmentLink: undefined, enrolmentExpiresAt: undefined };
  const enrolment = await issueOperatorEnrolment(flows, admin.id);
  return { organisation: { cvr: org.cvr, name: org.name }, admin, enrolmentLink: enrolment.link, enrolmentExpiresAt: enrolment.expiresAt };
}
