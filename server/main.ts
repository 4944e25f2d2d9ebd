/**
 * Reads config, opens store and HSM, seeds the demo organisation, listens, shuts down cleanly.
 */
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createRuntime, seedDemo } from './runtime.js';

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
  const log = createLogger(config.logLevel);
  const runtime = await createRuntime(config, { log, clientDir: path.resolve('client', 'dist') });
  runtime.outbox.start();
  runtime.checkpointer?.start();
  runtime.metadata?.start(runtime.gateway, runtime.assurance);
  runtime.gateway.expireDueKeys();
  const keyTicker = setInterval(() => {
    runtime.keys?.tick().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'key promotion failed; will retry'));
  }, 5_000);
  keyTicker.unref();
  const sweeper = setInterval(() => {
    try {
      runtime.gateway.expireDueKeys();
      runtime.store.pruneChallenges(new Date(Date.now() - 3600_000).toISOString());
      runtime.store.oidc.pruneExpired(new Date(Date.now() - 3600_000).toISOString());
    } catch (err) {
      log.error({ err }, 'periodic sweep failed');
    }
  }, 60_000);
  sweeper.unref();

  if (config.seedDemo) {
    const seed = seedDemo(runtime);
    // Printed to the operator's terminal once, not to the structured log.
    process.stdout.write(
      [
        '',
        `Demo organisation: ${seed.organisation.name} (CVR ${seed.organisation.cvr})`,
        seed.enrolmentLink
          ? `First administrator ${seed.admin.name} <${seed.admin.email}>: one-time enrolment link (valid until ${seed.enrolmentExpiresAt}):\n  ${seed.enrolmentLink}\nThe activation code arrives through the outbox (${runtime.outbox.description}).`
          : `First administrator ${seed.admin.name} <${seed.admin.email}> already has a security key; sign in at ${config.origin}/`,
        '',
      ].join('\n'),
    );
  }

  const server = runtime.app.listen(config.port, config.host, () => {
    log.info({ origin: config.origin, host: config.host, port: config.port }, 'gateway listening');
    process.stdout.write(`Gateway listening on http://${config.host}:${config.port} (origin ${config.origin})\n`);
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    clearInterval(sweeper);
    clearInterval(keyTicker);
    server.close(() => {
      void runtime.close().then(() => process.exit(0));
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
