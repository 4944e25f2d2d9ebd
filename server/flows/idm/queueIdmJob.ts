/**
 * Queues what MitID Erhverv must know of a change (issue 18) in the transaction of the change
 * itself (the transactional outbox): the binding of a person with their subject name id, a
 * contact or identifying-data change, a suspension or resumption of the person, the end of the
 * binding. Nothing is queued while the outbound sync is off (no GATEWAY_IDM_BASE_URL).
 *
 * The subject name id is derived once, at binding (GATEWAY_IDM_SUBJECT_NAME_ID_*), stored with
 * the person and never changed: it is the LocalIdentityProvider id at MitID Erhverv.
 */
import { randomUUID } from 'node:crypto';
import type { Identity } from '../../domain/types.js';
import type { IdmJob } from '../../idm/jobs.js';
import { employeeProfileOf } from '../../idm/profile.js';
import { deriveSubjectNameId } from '../../idm/subjectNameId.js';
import type { WriteTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';

/** What the directory knows of the person besides the identity (SCIM): names apart and the keys the subject name id may come from. */
export interface DirectoryFacts {
  givenName?: string | null;
  familyName?: string | null;
  externalId?: string | null;
  userName?: string | null;
  employeeNumber?: string | null;
}

export type IdmChange =
  | { kind: 'bind'; facts?: DirectoryFacts }
  | { kind: 'contact-change'; identifying: boolean; facts?: DirectoryFacts }
  | { kind: 'suspend-person' | 'reactivate-person' | 'end-binding' };

/**
 * Queues the job for `change` of `identity` in `tx`. Throws SubjectNameIdError (before anything
 * is queued) when a binding gives no valid subject name id under the configured rule.
 */
export async function queueIdmJob(deps: CoreDeps, tx: WriteTx, identity: Identity, change: IdmChange): Promise<void> {
  const setting = deps.config.idm;
  if (!setting.enabled) return;
  const at = deps.clock.now().toISOString();
  let person = await tx.idm.person(identity.id);
  if (!person) {
    // A person bound before the sync was switched on is found by reconciliation, not here.
    if (change.kind !== 'bind') return;
    const facts = change.facts ?? {};
    const subjectNameId = deriveSubjectNameId(setting.subjectNameId, {
      externalId: facts.externalId ?? null,
      userName: facts.userName ?? null,
      employeeNumber: facts.employeeNumber ?? null,
      identityId: identity.id,
    });
    person = { identityId: identity.id, subjectNameId, employeeUuid: null, createdAt: at };
    await tx.idm.insertPerson(person);
  }
  const id = randomUUID();
  const base = { key: id, personId: identity.id, subjectNameId: person.subjectNameId, employeeUuid: person.employeeUuid, email: identity.email };
  const facts = (): DirectoryFacts => ('facts' in change && change.facts ? change.facts : {});
  const profile = () => employeeProfileOf({ name: identity.name, givenName: facts().givenName ?? null, familyName: facts().familyName ?? null, email: identity.email, ial: identity.ial });
  const job: IdmJob =
    change.kind === 'bind'
      ? { kind: 'bind', ...base, profile: profile(), rid: null }
      : change.kind === 'contact-change'
        ? { kind: 'contact-change', ...base, profile: profile(), identifying: change.identifying }
        : { kind: change.kind, ...base };
  await tx.idm.enqueue({ id, identityId: identity.id, kind: job.kind, payload: JSON.stringify(job), createdAt: at });
}
