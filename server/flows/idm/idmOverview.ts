/**
 * What the administration page shows of the outbound sync to MitID Erhverv (issue 18): whether it
 * is on (and why not), how many jobs are pending, done and failed, and the newest jobs with the
 * person, their subject name id and the reason of a failure.
 */
import type { IdmJobState } from '../../domain/idm.js';
import type { JsonValue } from '../../audit/canonicalJson.js';
import type { IdmSetting } from '../../idm/config.js';
import { IdmReconciler } from '../../idm/reconciler.js';
import type { ReadTx } from '../../ports/store.js';

export interface IdmJobView {
  id: string;
  kind: string;
  state: IdmJobState;
  attempts: number;
  personName: string | null;
  subjectNameId: string | null;
  createdAt: string;
  nextAttemptAt: string;
  finishedAt: string | null;
  note: string | null;
  lastError: string | null;
}

export interface IdmOverview {
  enabled: boolean;
  /** Why the sync is off. */
  reason: string | null;
  counts: Record<IdmJobState, number>;
  jobs: IdmJobView[];
  /** The local hour of the nightly reconciliation (GATEWAY_IDM_RECONCILE_HOUR), when the sync is on. */
  reconcileHour: number | null;
  /** The latest reconciliation as audited (idm.reconciled or idm.reconcile-failed), if any. */
  reconciliation: { at: string; status: 'done' | 'failed'; data: { [key: string]: JsonValue } } | null;
}

export async function idmOverview(tx: ReadTx, setting: IdmSetting, organisationId: string, limit = 20): Promise<IdmOverview> {
  const jobs: IdmJobView[] = [];
  for (const j of await tx.idm.jobs(limit * 4)) {
    const person = await tx.identities.get(j.identityId);
    if (!person || person.organisationId !== organisationId) continue;
    const idm = await tx.idm.person(j.identityId);
    jobs.push({
      id: j.id,
      kind: j.kind,
      state: j.state,
      attempts: j.attempts,
      personName: person.name,
      subjectNameId: idm?.subjectNameId ?? null,
      createdAt: j.createdAt,
      nextAttemptAt: j.nextAttemptAt,
      finishedAt: j.finishedAt,
      note: j.note,
      lastError: j.lastError,
    });
    if (jobs.length >= limit) break;
  }
  const last = await IdmReconciler.latest(tx);
  return {
    enabled: setting.enabled,
    reason: setting.enabled ? null : setting.reason,
    counts: await tx.idm.counts(),
    jobs,
    reconcileHour: setting.enabled ? setting.reconcileHour : null,
    reconciliation: last ? { at: last.at, status: last.type === 'idm.reconciled' ? 'done' : 'failed', data: last.data } : null,
  };
}
