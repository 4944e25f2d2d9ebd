/**
 * Issues a one-time enrolment link (NSIS 3.2.2). Any earlier open link of the identity is
 * withdrawn, so at most one is ever valid. By default the link goes by mail to the bound address
 * and its token is minted at delivery (never stored in clear, issue 13, 5); handing it over in
 * person is an explicit, audited choice told to that address; the installing operator's link is
 * printed to a 0600 file by the caller. Only a keyed hash of a token is stored.
 */
import { randomUUID } from 'node:crypto';
import { addMinutes } from '../../clock.js';
import { SYSTEM_ACTOR, type Actor } from '../../domain/types.js';
import { enrolmentHandoverMail, enrolmentLinkMail } from '../../duties/mails.js';
import { ForbiddenError, GatewayError, NotFoundError, SegregationError } from '../../errors.js';
import type { WriteTx } from '../../ports/store.js';
import { keyedHash, randomToken } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent, refuse } from '../shared/audit.js';
import { queueMail } from '../shared/mail.js';
import { parseStoredUser } from '../provisioning/storedUser.js';
import { addressSetUpAloneBy } from '../shared/segregation.js';
import { maskEmail } from '../shared/text.js';

/** The stored token hash of a mailed link not minted yet (+ its id, the column is unique): matches nothing. */
export const NOT_YET_MINTED_LINK = 'unminted:';

/**
 * How an enrolment link reaches the person: by mail to the bound address (the default), handed
 * over in person by the issuer (an explicit, audited choice), or printed for the operator who
 * installs the gateway (the first administrator only).
 */
export type EnrolmentDelivery = 'mail' | 'handover' | 'operator';

/** An enrolment link as issued: mailed (its token minted at delivery), or in this answer only. */
export type IssuedEnrolment =
  | { delivery: 'mail'; enrolmentId: string; expiresAt: string; sentTo: string | null }
  | { delivery: 'handover' | 'operator'; enrolmentId: string; expiresAt: string; token: string; link: string };

export interface Replacement {
  replacesCredentialId: string | null;
  basis: string;
}

export function enrolmentLink(deps: CoreDeps, token: string): string {
  return `${deps.config.origin}/enrol.html#token=${token}`;
}

export async function issueEnrolment(
  deps: CoreDeps,
  actor: Actor,
  identityId: string,
  replacement?: Replacement,
  delivery: EnrolmentDelivery = actor.role === 'system' ? 'operator' : 'mail',
): Promise<IssuedEnrolment> {
  if (actor.role !== 'system' && actor.identityId === identityId) {
    throw new SegregationError('You cannot issue an enrolment for yourself; ask another administrator.');
  }
  if ((actor.role === 'system') !== (delivery === 'operator')) throw new TypeError('only the installation hands a link to the operator');
  if (await deps.store.read((tx) => addressSetUpAloneBy(tx, identityId, actor.identityId))) {
    // NSIS 3.2.2 (High) 3: the possession factor and the second channel never both pass
    // through one staff member: not to an address this issuer changed without a second person.
    await refuse(deps, 'enrolment.refused', identityId, { reason: 'address-set-up-alone-by-issuer', by: actor.identityId });
    throw new SegregationError('You changed this person’s email address without a second person’s approval, so you cannot issue their enrolment; ask a colleague.');
  }
  const issued = await deps.store.write((tx) => issueEnrolmentIn(deps, tx, actor, identityId, replacement, delivery));
  deps.kickOutbox();
  return issued;
}

/** Inside the caller's transaction (the checks above are the caller's). */
export async function issueEnrolmentIn(
  deps: CoreDeps,
  tx: WriteTx,
  actor: Actor,
  identityId: string,
  replacement: Replacement | undefined,
  delivery: EnrolmentDelivery,
): Promise<IssuedEnrolment> {
  // Issue 18: while the organisation's directory keeps the person inactive, no new key is issued.
  const directory = await tx.scimUsers.byIdentity(identityId);
  if (directory && !parseStoredUser(directory.resource).active) {
    throw new GatewayError('LIFECYCLE_BINDING_SUSPENDED', 409, 'The organisation’s directory has suspended this person; no enrolment link is issued until it makes them active again.');
  }
  const at = deps.clock.now();
  const expiresAt = addMinutes(at, deps.config.enrolmentTtlMinutes).toISOString();
  const enrolmentId = randomUUID();
  // A mailed link's token is minted at delivery (mintSecret); until then the row holds a value no
  // keyed hash can equal. A link handed over (or printed for the operator) exists only in this answer.
  const token = delivery === 'mail' ? undefined : randomToken(32);
  const identity = await tx.identities.get(identityId);
  if (!identity) throw new NotFoundError('Unknown identity.');
  if (identity.bindingState !== 'active') throw new ForbiddenError('BINDING_ENDED', 'The identity is no longer bound to the organisation.');
  const issuerName = actor.identityId ? ((await tx.identities.get(actor.identityId))?.name ?? null) : null;
  let sentTo: string | null = null;
  // NSIS 3.2.2 (Substantial) 2: by default the link goes to the person, at the bound address.
  if (delivery === 'mail') {
    await queueMail(tx, enrolmentLinkMail(identity, enrolmentId, expiresAt, issuerName, deps.config), at.toISOString());
    sentTo = maskEmail(identity.email);
  } else if (delivery === 'handover') {
    await queueMail(tx, enrolmentHandoverMail(identity, issuerName, at.toISOString(), expiresAt, deps.config), at.toISOString());
  }
  const superseded = await tx.enrolments.supersedeOpen(identityId, at.toISOString());
  await tx.enrolments.insert({
    id: enrolmentId,
    identityId,
    tokenHash: token === undefined ? `${NOT_YET_MINTED_LINK}${enrolmentId}` : keyedHash(deps.secretKey, 'enrolment', token),
    createdBy: actor.identityId,
    replacesCredentialId: replacement?.replacesCredentialId ?? null,
    basis: replacement?.basis ?? null,
    createdAt: at.toISOString(),
    expiresAt,
    consumedAt: null,
    supersededAt: null,
  });
  await recordEvent(deps, tx, 'enrolment.issued', actor, identityId, {
    enrolmentId,
    expiresAt,
    delivery,
    supersededEarlier: superseded,
    ...(replacement ? { replacesCredentialId: replacement.replacesCredentialId, basis: replacement.basis, clause: 'NSIS 3.2.4, 5.1' } : {}),
  });
  if (token === undefined) return { delivery: 'mail', enrolmentId, expiresAt, sentTo };
  return { delivery: delivery === 'operator' ? 'operator' : 'handover', enrolmentId, expiresAt, token, link: enrolmentLink(deps, token) };
}

/**
 * The installing operator's link (first administrator, recovery): printed to a 0600 file by the
 * caller, never mailed and never logged.
 */
export async function issueOperatorEnrolment(deps: CoreDeps, identityId: string): Promise<{ enrolmentId: string; expiresAt: string; token: string; link: string }> {
  return operatorLink(await issueEnrolment(deps, SYSTEM_ACTOR, identityId, undefined, 'operator'));
}

export function operatorLink(issued: IssuedEnrolment): { enrolmentId: string; expiresAt: string; token: string; link: string } {
  if (issued.delivery === 'mail') throw new TypeError('an operator enrolment is never mailed');
  return issued;
}
