/**
 * Reads config, opens store and HSM, seeds the demo organisation, listens, shuts down cleanly.
 *
 * With GATEWAY_WORKERS > 1 this process becomes the primary of a node:cluster: it prepares once
 * (migrations, first signing key, audited metadata load, demo seed), then forks the workers that
 * serve HTTP on the shared port. Worker 0 also runs the background singletons (audit
 * checkpoints, key promotion, expiry sweep, metadata schedule); every worker delivers the outbox
 * (rows are claimed with leases, so no mail goes twice). Everything the workers share (rate-limit
 * counters among it) lives in the store.
 */
import cluster from 'node:cluster';
import path from 'node:path';
import { superviseWorkers, workerIndex } from './cluster/index.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { installClusterMetricsPrimary } from './http/metrics.js';
import { expireDueKeys } from './flows/keys/expireKeys.js';
import { batchedStdout, createLogger, type Logger } from './logger.js';
import { createRuntime, seedDemo, type Runtime } from './runtime.js';
import { FIRST_ADMIN_LINK_FILE, removeEnrolmentLinkFile, writeEnrolmentLinkFile } from './admin/enrolmentLinkFile.js';

const clientDir = path.resolve('client', 'dist');

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, batchedStdout());
  if (config.workers > 1 && cluster.isPrimary) await runPrimary(config, log);
  else await serve(config, cluster.isWorker ? log.child({ worker: workerIndex() }) : log);
}

/**
 * Prints the demo organisation and where the first administrator's one-time link is: a 0600 file
 * under var/, never the link itself (stdout is also the JSON log stream, which log shippers keep).
 */
async function printDemo(runtime: Runtime): Promise<void> {
  const seed = await seedDemo(runtime);
  const { config } = runtime;
  const file = path.join(config.varDir, FIRST_ADMIN_LINK_FILE);
  if (seed.enrolmentLink && seed.enrolmentExpiresAt) {
    writeEnrolmentLinkFile(file, {
      purpose: 'One-time enrolment link for the first administrator of the gateway.',
      name: seed.admin.name,
      email: seed.admin.email,
      link: seed.enrolmentLink,
      expiresAt: seed.enrolmentExpiresAt,
    });
  } else {
    removeEnrolmentLinkFile(file);
  }
  process.stdout.write(
    [
      '',
      `Demo organisation: ${seed.organisation.name} (CVR ${seed.organisation.cvr})`,
      seed.enrolmentLink
        ? `First administrator ${seed.admin.name} <${seed.admin.email}>: a one-time enrolment link (valid until ${seed.enrolmentExpiresAt}) is in\n  ${file}\n(readable by this user only). The activation code arrives through the outbox (${runtime.outbox.description}).`
        : `First administrator ${seed.admin.name} <${seed.admin.email}> has registered a security key; sign in at ${config.origin}/ (lost it? npm run recover-admin)`,
      '',
    ].join('\n'),
  );
}

async function runPrimary(config: Readonly<Config>, log: Logger): Promise<void> {
  // Prepare once, then let go of the HSM and the database: the workers open their own.
  // No process figures: the primary serves no /metrics, and their sampler would wake it for good.
  const runtime = await createRuntime(config, { log, clientDir, processFigures: false });
  try {
    await expireDueKeys(runtime.flows);
    if (config.seedDemo) await printDemo(runtime);
  } finally {
    await runtime.close();
  }
  // /metrics on any worker answers for the whole gateway: the primary gathers every worker's.
  installClusterMetricsPrimary();
  const supervisor = superviseWorkers({
    workers: config.workers,
    log,
    onListening: () => {
      log.info({ origin: config.origin, host: config.host, port: config.port, workers: config.workers }, 'gateway listening');
      process.stdout.write(`Gateway listening on http://${config.host}:${config.port} (origin ${config.origin}) with ${config.workers} worker processes\n`);
    },
  });
  process.on('SIGINT', () => supervisor.stop('SIGINT'));
  process.on('SIGTERM', () => supervisor.stop('SIGTERM'));
  // Issue 18: SIGHUP re-reads GATEWAY_SCIM_GROUP_ROLES_FILE (worker 0 does; serve() below).
  process.on('SIGHUP', () => supervisor.signal('SIGHUP'));
}

async function serve(config: Readonly<Config>, log: Logger): Promise<void> {
  const inCluster = cluster.isWorker;
  const singletons = workerIndex() === 0;
  // A stop asked for while starting (HSM login, migrations) is honoured once the start is done.
  let stopAsked: string | undefined;
  const early = (signal: string) => () => (stopAsked ??= signal);
  const earlyHandlers = { SIGINT: early('SIGINT'), SIGTERM: early('SIGTERM'), disconnect: early('primary-gone') };
  // Issue 18: SIGHUP asks for GATEWAY_SCIM_GROUP_ROLES_FILE to be read now (worker 0; the others
  // are told what it applied). Handled from the first moment, since unhandled it ends the process;
  // during the start there is nothing to do (the start reads the file itself).
  let onHangup: () => void = () => undefined;
  process.on('SIGHUP', () => onHangup());
  for (const [event, handler] of Object.entries(earlyHandlers)) process.on(event, handler);
  const runtime = await createRuntime(config, { log, clientDir, clusterWorker: inCluster });
  for (const [event, handler] of Object.entries(earlyHandlers)) process.off(event, handler);
  runtime.outbox.start();
  let keyTicker: NodeJS.Timeout | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  if (singletons) {
    runtime.checkpointer?.start();
    runtime.idm?.start();
    runtime.idmReconciler?.start();
    runtime.metadata?.start(runtime.flows, runtime.assurance);
    // Issue 18: one process follows the group-role file and tells its siblings what it applied.
    runtime.groupRoleFile?.start();
    await expireDueKeys(runtime.flows);
    keyTicker = setInterval(() => {
      runtime.keys?.tick().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'key promotion failed; will retry'));
    }, 5_000);
    keyTicker.unref();
    sweeper = setInterval(() => {
      const hourAgo = Date.now() - 3600_000;
      Promise.all([
        expireDueKeys(runtime.flows),
        runtime.store.ephemeral.challenges.prune(new Date(hourAgo).toISOString()),
        runtime.store.ephemeral.limits.prune(Date.now()),
        runtime.store.write((tx) => tx.oidc.pruneExpired(new Date(hourAgo).toISOString())),
        // Issue 15: SAML message IDs and pending requests past their lifetime.
        runtime.store.write((tx) => tx.saml.pruneExpired(new Date(hourAgo).toISOString())),
      ]).catch((err: unknown) => log.error({ err }, 'periodic sweep failed'));
    }, 60_000);
    sweeper.unref();
  }
  if (!inCluster && config.seedDemo) await printDemo(runtime);

  const server = runtime.app.listen(config.port, config.host, () => {
    if (inCluster) return; // the primary announces once every worker listens
    log.info({ origin: config.origin, host: config.host, port: config.port }, 'gateway listening');
    process.stdout.write(`Gateway listening on http://${config.host}:${config.port} (origin ${config.origin})\n`);
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    if (sweeper) clearInterval(sweeper);
    if (keyTicker) clearInterval(keyTicker);
    server.close(() => {
      void runtime.close().then(() => process.exit(0));
    });
    // Keep-alive connections would hold close() open: end the idle ones now.
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  onHangup = () => {
    if (singletons && !stopping) void runtime.groupRoleFile?.reload('signal');
  };
  // A worker whose primary is gone (even by kill -9) stops rather than serve unsupervised.
  if (inCluster) process.on('disconnect', () => stop('primary-gone'));
  if (stopAsked !== undefined || (inCluster && !process.connected)) stop(stopAsked ?? 'primary-gone');
}

main().catch((err: unknown) => {
  process.stderr.write(`Gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
