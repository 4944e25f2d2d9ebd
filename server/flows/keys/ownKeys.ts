/** The holder's own keys: listed, each with its history, and renamed. */
import type { CredentialEvent } from '../../domain/keys.js';
import type { Actor, Credential } from '../../domain/types.js';
import { LifecycleError, NotFoundError } from '../../errors.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';
import { cleanLabel } from '../shared/text.js';

export function listKeys(deps: CoreDeps, identityId: string): Promise<Credential[]> {
  return deps.store.read((tx) => tx.credentials.listOfIdentity(identityId));
}

/** The state history of one of the person's own keys (another's is unknown to them). */
export function ownKeyHistory(deps: CoreDeps, identityId: string, credentialId: string): Promise<CredentialEvent[]> {
  return deps.store.read(async (tx) => {
    const key = await tx.credentials.get(credentialId);
    if (!key || key.identityId !== identityId) throw new NotFoundError('Unknown security key.');
    return tx.credentials.events(key.id);
  });
}

export function renameKey(deps: CoreDeps, actor: Actor, credentialId: string, label: string): Promise<Credential> {
  return deps.store.write(async (tx) => {
    const key = await tx.credentials.get(credentialId);
    if (!key || key.identityId !== actor.identityId) throw new NotFoundError('Unknown security key.');
    const clean = cleanLabel(label);
    const at = deps.clock.now().toISOString();
    if (!(await tx.credentials.rename(key.id, clean, at))) {
      throw new LifecycleError('LIFECYCLE_TRANSITION_REFUSED', `A key that is ${key.state} cannot be renamed.`);
    }
    await recordEvent(deps, tx, 'credential.renamed', actor, key.id, { from: key.label, to: clean });
    return { ...key, label: clean, updatedAt: at };
  });
}
