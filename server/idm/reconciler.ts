/**
 * Runs reconciliation with MitID Erhverv (issue 18: "a nightly (and on-demand) reconciliation
 * compares both sides and reports, or repairs where the rule is clear"; NSIS 5.2, 3.2.3): reads
 * both sides, applies the rules of reconcile.ts, and in ONE transaction queues the repairs as IdM
 * jobs (run by the dispatcher, exactly once: a repair is not queued again while the same kind of
 * job for the person is still pending), records the links, and audits the outcome
 * (idm.reconciled: findings by kind, jobs queued, report-only differences; idm.reconcile-failed
 * with the reason). Nothing of the organisation's data is overwritten here.
 *
 * One run at a time across workers and instances: the run holds the store lease
 * `idm-reconcile` (tx.leases, as the audit checkpointer does); a request while it is held is
 * refused as busy. The nightly run starts at GATEWAY_IDM_RECONCILE_HOUR in GATEWAY_TIME_ZONE, once
 * per local day (the audit records the day it ran, read under the lease).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { AuditEntry } from '../audit/hashChain.js';
import type { Logger } from '../logger.js';
import type { ReadTx, Store, WriteTx } from '../ports/store.js';
import { isJsonObject } from '../scim/canonicalise.js';
import { userFromJson } from '../scim/model.js';
import type { IdmClient } from './client.js';
import { collectEmployees } from './operations.js';
import { employeeProfileOf } from './profile.js';
import { type Finding, type IdmJobSpec, type OurPerson, reconcile } from './reconcile.js';

/** The directory's record of the person says active=false. */
async function directoryInactive(tx: ReadTx, identityId: string): Promise<boolean> {
  const row = await tx.scimUsers.byIdentity(identityId);
  if (!row) return false;
  const json: unknown = JSON.parse(row.resource);
  return isJsonObject(json) && !userFromJson(json).active;
}

export const RECONCILE_LEASE = 'idm-reconcile';
/** The audit subject of reconciliation runs (the admin page reads the latest). */
export const RECONCILE_SUBJECT = 'idm-reconciliation';
const LEASE_MS = 30 * 60_000;
const RETRY_MS = 15 * 60_000;

export type ReconcileTrigger = { kind: 'nightly' } | { kind: 'on-demand'; actorId: string };

export interface ReconcileOutcome {
  status: 'done' | 'failed';
  day: string;
  trigger: 'nightly' | 'on-demand';
  findings: Record<string, number>;
  /** Report-only differences (a person decides). */
  reported: Pick<Finding, 'kind' | 'personId' | 'employeeUuid' | 'subjectNameId' | 'detail'>[];
  jobsQueued: number;
  linksRecorded: number;
  /** Repairs already queued by an earlier run and still pending (not queued twice). */
  alreadyQueued: number;
  error: string | null;
}

/** The local calendar day and hour of `at` in `timeZone`. */
export function localDayHour(at: Date, timeZone: string): { day: string; hour: number } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { day: `${get('year')}-${get('month')}-${get('day')}`, hour: Number(get('hour')) };
}

export class IdmReconciler {
  private timer: NodeJS.Timeout | undefined;
  /** This process's run (the lease is re-entrant for its holder, so one process also guards itself). */
  private active = false;
  readonly holder = `idm-reconcile-${randomUUID()}`;

  constructor(
    private readonly store: Store,
    private readonly client: IdmClient,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly schedule: { hour: number; timeZone: string },
    /** Links and queues the people bound before the sync was on (flows/idm/backfillIdmPeople). */
    private readonly backfill?: () => Promise<unknown>,
  ) {}

  /** The latest run's outcome as audited (of `trigger`, when given), if any. */
  static async latest(read: { audit: { forPerson(id: string, limit?: number): Promise<AuditEntry[]> } }, trigger?: ReconcileTrigger['kind']): Promise<AuditEntry | undefined> {
    const runs = (await read.audit.forPerson(RECONCILE_SUBJECT, 100)).filter((e) => e.type === 'idm.reconciled' || e.type === 'idm.reconcile-failed');
    return trigger ? runs.find((e) => e.data['trigger'] === trigger) : runs[0];
  }

  /** Runs now unless a run holds the lease (then 'busy'). */
  async run(trigger: ReconcileTrigger): Promise<ReconcileOutcome | 'busy'> {
    return (await this.underLease(trigger, null)) ?? 'busy';
  }

  /** The nightly check: runs when the local hour is the configured one and no run was audited for this local day. */
  async tick(): Promise<ReconcileOutcome | 'busy' | 'not-due'> {
    const { day, hour } = localDayHour(this.clock.now(), this.schedule.timeZone);
    if (hour !== this.schedule.hour) return 'not-due';
    const r = await this.underLease({ kind: 'nightly' }, day);
    return r === 'busy' ? 'busy' : r === null ? 'not-due' : r;
  }

  start(intervalMs = 60_000): void {
    // The sync may have just been switched on: the people bound before it are sent now.
    this.backfill?.().catch((err: unknown) => this.log.error({ err }, 'idm backfill failed; the next reconciliation tries again'));
    this.timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.log.error({ err }, 'idm reconciliation failed; will retry'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async underLease(trigger: ReconcileTrigger, nightlyDay: string | null): Promise<ReconcileOutcome | 'busy' | null> {
    if (this.active) return 'busy';
    this.active = true;
    const now = this.clock.now();
    const until = new Date(now.getTime() + LEASE_MS).toISOString();
    let held = false;
    try {
      held = await this.store.write((tx) => tx.leases.acquire(RECONCILE_LEASE, this.holder, until, now.toISOString()));
      if (!held) return 'busy';
      if (nightlyDay !== null) {
        const last = await this.store.read((tx) => IdmReconciler.latest(tx, 'nightly'));
        // Once a night: a failed nightly run is tried again after RETRY_MS within the hour.
        const retryAt = last ? new Date(last.at).getTime() + RETRY_MS : 0;
        if (last?.data['day'] === nightlyDay && (last.type === 'idm.reconciled' || now.getTime() < retryAt)) return null;
      }
      return await this.reconcileOnce(trigger, localDayHour(now, this.schedule.timeZone).day);
    } finally {
      try {
        if (held) await this.store.write((tx) => tx.leases.release(RECONCILE_LEASE, this.holder));
      } finally {
        this.active = false;
      }
    }
  }

  private async ours(): Promise<OurPerson[]> {
    return this.store.read(async (tx) => {
      const out: OurPerson[] = [];
      for (const p of await tx.idm.people()) {
        const identity = await tx.identities.get(p.identityId);
        if (!identity) continue;
        const keys = await tx.credentials.listOfIdentity(identity.id);
        // NSIS 3.2.3: suspended by the directory: keys suspended so, or active=false on its record (a person without keys yet).
        const suspended = keys.some((k) => k.state === 'suspended' && k.stateReason === 'binding-suspended') || (await directoryInactive(tx, identity.id));
        out.push({
          personId: identity.id,
          subjectNameId: p.subjectNameId,
          employeeUuid: p.employeeUuid,
          state: identity.bindingState === 'ended' ? 'ended' : suspended ? 'suspended' : 'active',
          profile: employeeProfileOf({ name: identity.name, givenName: null, familyName: null, email: identity.email, ial: identity.ial }),
          rid: null,
        });
      }
      return out;
    });
  }

  private async reconcileOnce(trigger: ReconcileTrigger, day: string): Promise<ReconcileOutcome> {
    const base = { day, trigger: trigger.kind, findings: {}, reported: [], jobsQueued: 0, linksRecorded: 0, alreadyQueued: 0 };
    let outcome: ReconcileOutcome;
    try {
      // A person bound before the sync was on is linked and queued first (once: see the backfill).
      await this.backfill?.();
      const [ours, theirs] = [await this.ours(), await collectEmployees(this.client)];
      const report = reconcile(ours, theirs);
      outcome = await this.store.write(async (tx) => {
        const o: ReconcileOutcome = { ...base, status: 'done', error: null, findings: {}, reported: [] };
        for (const f of report.findings) {
          o.findings[f.kind] = (o.findings[f.kind] ?? 0) + 1;
          if (!f.repaired) o.reported.push({ kind: f.kind, personId: f.personId, employeeUuid: f.employeeUuid, subjectNameId: f.subjectNameId, detail: f.detail });
        }
        for (const r of report.repairs) {
          if (r.kind === 'link') {
            await tx.idm.setEmployeeUuid(r.personId, r.employeeUuid);
            o.linksRecorded++;
            continue;
          }
          const pending = (await tx.idm.jobsOf(r.job.personId)).some((j) => j.state === 'pending' && j.kind === r.job.kind);
          if (pending) {
            o.alreadyQueued++;
            continue;
          }
          await this.enqueue(tx, r.job);
          o.jobsQueued++;
        }
        await this.audit(tx, trigger, o, report.summary);
        return o;
      });
    } catch (err) {
      const error = (err instanceof Error ? err.message : String(err)).slice(0, 300);
      outcome = { ...base, status: 'failed', error };
      const failed = outcome;
      await this.store.write((tx) => this.audit(tx, trigger, failed, null));
    }
    this.log.info({ status: outcome.status, findings: outcome.findings, jobsQueued: outcome.jobsQueued }, 'idm reconciliation');
    return outcome;
  }

  private async enqueue(tx: WriteTx, spec: IdmJobSpec): Promise<void> {
    const id = randomUUID();
    await tx.idm.enqueue({ id, identityId: spec.personId, kind: spec.kind, payload: JSON.stringify({ ...spec, key: id }), createdAt: this.clock.now().toISOString() });
  }

  private async audit(tx: WriteTx, trigger: ReconcileTrigger, o: ReconcileOutcome, summary: Record<string, number> | null): Promise<void> {
    await tx.audit.append({
      at: this.clock.now().toISOString(),
      type: o.status === 'done' ? 'idm.reconciled' : 'idm.reconcile-failed',
      actorId: trigger.kind === 'on-demand' ? trigger.actorId : null,
      actorRole: trigger.kind === 'on-demand' ? 'org-admin' : 'system',
      subjectId: RECONCILE_SUBJECT,
      data: {
        trigger: trigger.kind,
        day: o.day,
        findings: o.findings,
        reported: o.reported.slice(0, 50),
        jobsQueued: o.jobsQueued,
        linksRecorded: o.linksRecorded,
        alreadyQueued: o.alreadyQueued,
        ...(summary ? { summary } : {}),
        ...(o.error ? { error: o.error } : {}),
        clause: 'NSIS 5.2; 3.2.3; issue 18',
      },
    });
  }
}
