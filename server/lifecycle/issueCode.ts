/**
 * Opens a new activation or reactivation code (withdrawing older ones) and queues its mail to the
 * holder, inside the caller's transaction. The code itself does not exist yet: it is minted when
 * the mail is delivered (flows/delivery/mintSecret.ts), so it is never stored in clear (issue 13,
 * 5); until then no code matches.
 */
import { randomUUID } from 'node:crypto';
import type { Actor, Credential, Identity } from '../domain/types.js';
import type { CoreDeps } from '../flows/deps.js';
import { recordEvent } from '../flows/shared/audit.js';
import { queueMail } from '../flows/shared/mail.js';
import type { WriteTx } from '../ports/store.js';
import { activationCodeMail } from './mails.js';

/** The stored hash of a code not minted yet (its mail not delivered): matches nothing. */
export const NOT_YET_MINTED = '';

export async function issueCode(deps: CoreDeps, tx: WriteTx, key: Credential, holder: Identity, expiresAt: string, purpose: 'activate' | 'reactivate', actor: Actor): Promise<void> {
  const at = deps.clock.now().toISOString();
  await tx.codes.supersedeOpen(key.id, at);
  const codeId = randomUUID();
  await tx.codes.insert({ id: codeId, credentialId: key.id, purpose, codeHash: NOT_YET_MINTED, requestedBy: actor.identityId, createdAt: at, expiresAt });
  await queueMail(tx, activationCodeMail(holder, key, codeId, expiresAt, purpose, deps.config), at);
  await recordEvent(deps, tx, 'activation-code.issued', actor, key.id, { codeId, purpose, expiresAt, channel: 'email' });
}
