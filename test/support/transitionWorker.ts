/**
 * A second (third, ...) gateway process in miniature: a worker thread that opens the same store
 * with its own connections and core (server/toolCore.ts), and fires random lifecycle actions at
 * shared keys.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from '../../server/config.js';
import { GatewayError } from '../../server/errors.js';
import { transition } from '../../server/flows/keys/transition.js';
import { createLogger } from '../../server/logger.js';
import { createToolCore } from '../../server/toolCore.js';
import type { LifecycleAction } from '../../server/lifecycle/index.js';
import type { ReasonCode } from '../../server/domain/types.js';

interface Job {
  env: Record<string, string>;
  cwd: string;
  keys: { id: string; holderId: string }[];
  staffId: string;
  actions: number;
  seed: number;
}

const job = workerData as Job;
const config = loadConfig(job.env, job.cwd);
const log = createLogger('silent');
// Its own store connections, secret key, outbox and flows: as another gateway process has.
const core = await createToolCore(config, { log });

let state = job.seed;
const rnd = (n: number) => {
  state = (state * 1103515245 + 12345) & 0x7fffffff;
  return (state >>> 12) % n;
};

const CHOICES: { action: LifecycleAction; role: 'holder' | 'helpdesk'; reason: ReasonCode }[] = [
  { action: 'suspend', role: 'holder', reason: 'lost' },
  { action: 'suspend', role: 'helpdesk', reason: 'lost' },
  { action: 'request-reactivation', role: 'helpdesk', reason: 'found' },
  { action: 'request-reactivation', role: 'helpdesk', reason: 'found' },
];
const REVOKE = { action: 'revoke' as const, role: 'helpdesk' as const, reason: 'lost' as const };

const outcomes: Record<string, number> = {};
for (let i = 0; i < job.actions; i++) {
  const key = job.keys[rnd(job.keys.length)];
  // Revocation is terminal, so it is kept rare to let keys cycle through the other states.
  const choice = rnd(40) === 0 ? REVOKE : CHOICES[rnd(CHOICES.length)];
  if (!key || !choice) continue;
  const actor = { identityId: choice.role === 'holder' ? key.holderId : job.staffId, role: choice.role };
  let outcome: string;
  try {
    await transition(core.flows, actor, { credentialId: key.id, action: choice.action, reason: choice.reason, note: `worker ${job.seed} step ${i}` });
    outcome = `ok:${choice.action}`;
  } catch (err) {
    outcome = err instanceof GatewayError ? `refused:${err.code}` : `crash:${err instanceof Error ? err.message : String(err)}`;
  }
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  await new Promise((resolve) => setTimeout(resolve, 1 + rnd(3)));
}
await core.outbox.flush();
await core.close();
parentPort?.postMessage(outcomes);
