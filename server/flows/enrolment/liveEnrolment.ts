/**
 * The enrolment link a ceremony request names, if it is live (NSIS 3.2.2): one read of the link,
 * its person and whether the address was set up by the link's issuer alone. A used, withdrawn,
 * expired or locked link is refused and audited (CONVENTIONS 4: a second use of a single-use
 * link is refused and audited).
 */
import type { Enrolment } from '../../domain/keys.js';
import type { Identity } from '../../domain/types.js';
import { EnrolmentError, EnrolmentLockedError } from '../../errors.js';
import { keyedHash } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';
import { refuse } from '../shared/audit.js';
import { addressSetUpAloneBy } from '../shared/segregation.js';

export interface LiveEnrolment {
  enrolment: Enrolment;
  identity: Identity;
  /** NSIS 3.2.2 (High) 3: the address was changed by the link's issuer without a second person. */
  addressSetUpByIssuerAlone: boolean;
}

export async function liveEnrolment(deps: CoreDeps, token: string): Promise<LiveEnrolment> {
  const found = await deps.store.read(async (tx) => {
    const enrolment = await tx.enrolments.byTokenHash(keyedHash(deps.secretKey, 'enrolment', token));
    if (!enrolment) return undefined;
    const identity = await tx.identities.get(enrolment.identityId);
    return { enrolment, identity, addressSetUpByIssuerAlone: await addressSetUpAloneBy(tx, enrolment.identityId, enrolment.createdBy) };
  });
  if (!found) {
    await refuse(deps, 'enrolment.refused', null, { reason: 'unknown-link' });
    throw new EnrolmentError();
  }
  const { enrolment, identity } = found;
  const now = deps.clock.now().toISOString();
  const why = enrolment.consumedAt
    ? 'already-used'
    : enrolment.supersededAt
      ? 'superseded'
      : enrolment.expiresAt <= now
        ? 'expired'
        : !identity || identity.bindingState !== 'active'
          ? 'binding-ended'
          : null;
  if (why === null && enrolment.lockedAt !== null) {
    await refuse(deps, 'enrolment.refused', enrolment.identityId, { enrolmentId: enrolment.id, reason: 'locked' });
    throw new EnrolmentLockedError();
  }
  if (why !== null || !identity) {
    await refuse(deps, 'enrolment.refused', enrolment.identityId, { enrolmentId: enrolment.id, reason: why ?? 'binding-ended' });
    throw new EnrolmentError();
  }
  return { enrolment, identity, addressSetUpByIssuerAlone: found.addressSetUpByIssuerAlone };
}
