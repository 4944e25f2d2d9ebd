/** NSIS 2 (Expiry): a key with an expiry date can no longer be used once it has passed. */
import { SYSTEM_ACTOR, type Credential } from '../../domain/types.js';
import { LifecycleError } from '../../errors.js';
import { applyTransition, keyIn } from '../../lifecycle/applyTransition.js';
import type { CoreDeps } from '../deps.js';

/** Expires `key` if its date has passed; returns the key as it is then (a lost race leaves it as read). */
export async function expireIfDue(deps: CoreDeps, key: Credential): Promise<Credential> {
  if (!key.expiresAt || key.expiresAt > deps.clock.now().toISOString() || key.state === 'revoked' || key.state === 'expired') return key;
  try {
    return await deps.store.write(async (tx) => applyTransition(deps, tx, { actor: SYSTEM_ACTOR, key: await keyIn(tx, key.id), action: 'expire', reason: 'expired', note: null }));
  } catch (err) {
    if (err instanceof LifecycleError && err.code === 'LIFECYCLE_CONFLICT') return key;
    throw err;
  }
}

/** Expires every key whose date has passed (at start and periodically); returns how many. */
export async function expireDueKeys(deps: CoreDeps): Promise<number> {
  const due = await deps.store.read((tx) => tx.credentials.listDueToExpire(deps.clock.now().toISOString()));
  let n = 0;
  for (const key of due) if ((await expireIfDue(deps, key)) !== key) n++;
  return n;
}
