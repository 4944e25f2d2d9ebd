/**
 * People bound before the outbound sync was switched on are sent to MitID Erhverv (issue 18,
 * NSIS 5.2: every person bound to the organisation exists there with the Local IdP as
 * authenticator). Run when the gateway starts with the sync on (so: when it becomes configured)
 * and before every reconciliation: each person whose binding is active and who has no subject
 * name id yet is given one (derived by the configured rule from the directory's record when a
 * SCIM directory bound them, else from the identity id) and a bind job; a person whose keys the
 * directory suspended (reason binding-suspended, NSIS 3.2.3) also gets a suspend-person job.
 *
 * Exactly once across restarts and instances: the subject name id row (idm_people, one per
 * person, primary key) is written in the same transaction as the job, and a person is taken only
 * when that row is absent inside the transaction. Two instances backfilling together collide on
 * the row; the loser's transaction rolls back whole (StoreConflict) and is tried again, finding
 * the person linked. A person whose directory data gives no valid subject name id is skipped and
 * audited (idm.backfill-skipped) for a person to fix.
 */
import { SYSTEM_ACTOR } from '../../domain/types.js';
import type { IdmConfig } from '../../idm/config.js';
import { SubjectNameIdError, deriveSubjectNameId } from '../../idm/subjectNameId.js';
import { StoreConflict, type WriteTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { parseStoredUser } from '../provisioning/storedUser.js';
import { recordEvent } from '../shared/audit.js';
import { type DirectoryFacts, queueIdmJob } from './queueIdmJob.js';

export interface BackfillOutcome {
  /** People given a subject name id and a bind job by this call. */
  queued: number;
  /** Of those, people also given a suspend-person job. */
  suspended: number;
  /** People whose data gives no subject name id (audited). */
  skipped: number;
}

const CHUNK = 100;
const MAX_PEOPLE = 100_000;
const CONFLICT_TRIES = 5;

/** The directory's record of the person (a SCIM User), if a directory bound them. */
async function directoryOf(tx: WriteTx, identityId: string): Promise<{ facts: DirectoryFacts; active: boolean } | undefined> {
  const row = await tx.scimUsers.byIdentity(identityId);
  if (!row) return undefined;
  const user = parseStoredUser(row.resource);
  return { facts: { givenName: user.name.givenName, familyName: user.name.familyName, externalId: user.externalId, userName: user.userName, employeeNumber: user.employeeNumber }, active: user.active };
}

/** One chunk in one transaction: the people still unlinked inside it are linked and queued. */
async function backfillChunk(deps: CoreDeps, setting: IdmConfig, tx: WriteTx, ids: readonly string[]): Promise<BackfillOutcome> {
  const out: BackfillOutcome = { queued: 0, suspended: 0, skipped: 0 };
  for (const id of ids) {
    if (await tx.idm.person(id)) continue;
    const identity = await tx.identities.get(id);
    if (!identity || identity.bindingState !== 'active') continue;
    const directory = await directoryOf(tx, id);
    const facts = directory?.facts;
    try {
      deriveSubjectNameId(setting.subjectNameId, {
        externalId: facts?.externalId ?? null,
        userName: facts?.userName ?? null,
        employeeNumber: facts?.employeeNumber ?? null,
        identityId: id,
      });
    } catch (err) {
      if (!(err instanceof SubjectNameIdError)) throw err;
      out.skipped++;
      await recordEvent(deps, tx, 'idm.backfill-skipped', SYSTEM_ACTOR, id, { reason: err.message.slice(0, 200), clause: 'NSIS 5.2; issue 18' });
      continue;
    }
    await queueIdmJob(deps, tx, identity, { kind: 'bind', ...(facts ? { facts } : {}) });
    out.queued++;
    const keys = await tx.credentials.listOfIdentity(id);
    // Suspended by the directory: active=false on its record (a person without keys yet) or keys suspended so.
    if (directory?.active === false || keys.some((k) => k.state === 'suspended' && k.stateReason === 'binding-suspended')) {
      await queueIdmJob(deps, tx, identity, { kind: 'suspend-person' });
      out.suspended++;
    }
  }
  if (out.queued > 0) await recordEvent(deps, tx, 'idm.backfilled', SYSTEM_ACTOR, null, { queued: out.queued, suspended: out.suspended, clause: 'NSIS 5.2; issue 18' });
  return out;
}

/** Queues a bind job for every bound person without a subject name id; nothing while the sync is off. */
export async function backfillIdmPeople(deps: CoreDeps): Promise<BackfillOutcome> {
  const total: BackfillOutcome = { queued: 0, suspended: 0, skipped: 0 };
  const setting = deps.config.idm;
  if (!setting.enabled) return total;
  const ids = await deps.store.read((tx) => tx.idm.unlinked(MAX_PEOPLE));
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await deps.store.write((tx) => backfillChunk(deps, setting, tx, chunk));
        total.queued += r.queued;
        total.suspended += r.suspended;
        total.skipped += r.skipped;
        break;
      } catch (err) {
        // Another instance linked one of these people in the meantime: the chunk is read again.
        if (!(err instanceof StoreConflict) || attempt >= CONFLICT_TRIES) throw err;
      }
    }
  }
  if (total.queued > 0) deps.log.info({ queued: total.queued, suspended: total.suspended, skipped: total.skipped }, 'idm backfill: people bound before the sync queued');
  return total;
}
