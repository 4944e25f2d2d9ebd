/**
 * The core without the HTTP edge and without the HSM, for the operator's tools that act on a
 * gateway's database directly (npm run recover-admin) and for test processes that stand in for a
 * second gateway process: the same store, secret key, outbox and flows as server/runtime.ts.
 */
import { AssuranceService } from './assurance/AssuranceService.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { CoreDeps } from './flows/deps.js';
import { mintSecret } from './flows/delivery/mintSecret.js';
import type { Logger } from './logger.js';
import { FileSink, OutboxDispatcher, SmtpSink } from './outbox/index.js';
import type { Store } from './ports/store.js';
import { loadOrCreateSecretKey } from './security/secretKey.js';
import { openStore } from './store/openStore.js';

export interface ToolCore {
  store: Store;
  flows: CoreDeps;
  outbox: OutboxDispatcher;
  close(): Promise<void>;
}

export async function createToolCore(config: Readonly<Config>, opts: { log: Logger; clock?: Clock }): Promise<ToolCore> {
  const clock = opts.clock ?? systemClock;
  const store = await openStore(config);
  const sink = config.smtp ? new SmtpSink(config.smtp) : new FileSink(config.outboxDir, `Local IdP <no-reply@${config.rpId}>`);
  const outbox = new OutboxDispatcher(store, sink, clock, opts.log);
  const flows: CoreDeps = {
    store,
    clock,
    config,
    secretKey: loadOrCreateSecretKey(config.secretFile),
    log: opts.log,
    assurance: new AssuranceService(config.attestation, undefined, clock),
    kickOutbox: () => outbox.kick(),
    observe: () => undefined,
    sessionsEnded: () => undefined,
    signToken: undefined,
    population: undefined,
  };
  outbox.secretMinter = (ref) => mintSecret(flows, ref);
  return {
    store,
    flows,
    outbox,
    async close() {
      await outbox.close();
      await store.close();
    },
  };
}
