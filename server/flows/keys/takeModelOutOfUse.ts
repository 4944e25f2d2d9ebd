/**
 * NSIS 3.2.3 (Low) 4: the FIDO metadata reports a model compromised. Every live key of that model
 * is taken out of use on the issuer's own initiative (active keys suspended, keys not yet
 * activated revoked), in one transaction, with each row's effects; the helpdesk is alerted.
 */
import { SYSTEM_ACTOR } from '../../domain/types.js';
import { applyTransition } from '../../lifecycle/applyTransition.js';
import { compromiseAlertMail } from '../../lifecycle/mails.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';
import { queueMail } from '../shared/mail.js';

export async function takeModelOutOfUse(deps: CoreDeps, aaguid: string, status: string): Promise<{ suspended: string[]; revoked: string[] }> {
  const result = await deps.store.write(async (tx) => {
    const suspended: string[] = [];
    const revoked: string[] = [];
    const note = `FIDO metadata status ${status} for model ${aaguid}`;
    for (const key of await tx.credentials.listLiveByAaguid(aaguid)) {
      if (key.state === 'active') {
        await applyTransition(deps, tx, { actor: SYSTEM_ACTOR, key, action: 'suspend', reason: 'suspected-compromise', note });
        suspended.push(key.id);
      } else if (key.state === 'issued') {
        await applyTransition(deps, tx, { actor: SYSTEM_ACTOR, key, action: 'revoke', reason: 'suspected-compromise', note });
        revoked.push(key.id);
      }
    }
    await recordEvent(deps, tx, 'metadata.model-compromised', SYSTEM_ACTOR, aaguid, { status, suspended, revoked, clause: 'NSIS 3.2.3 (Low) 4' });
    if (suspended.length + revoked.length > 0) {
      const at = deps.clock.now().toISOString();
      for (const helpdesk of await tx.identities.listActiveWithRole('helpdesk')) {
        await queueMail(tx, compromiseAlertMail(helpdesk, aaguid, status, suspended.length, revoked.length, deps.config), at);
      }
    }
    return { suspended, revoked };
  });
  deps.kickOutbox();
  return result;
}
