/**
 * The jobs that keep MitID Erhverv in step with the gateway, as data, and `runJob` that carries
 * one out. Every change MitID Erhverv must know (MitID Erhverv Local IdM guidance: users exist
 * there too, with the Local IdP as their authenticator) is one job: binding a person (NSIS 5.2),
 * changing their contact data, suspending or reactivating the person (NSIS 3.2.3), ending the
 * binding (NSIS 5.2 (Low) 3).
 *
 * A job carries a `key` unique to the change (the outbox row's id in part 2), so a change is
 * queued once; `runJob` is written so that running the same job again after an unknown outcome
 * (a timeout after the request left) has no second effect: see operations.ts. It never throws:
 * the outcome says done, retry (with the server's Retry-After, if any) or failed with a reason.
 */
import { z } from 'zod';
import { IDENTITY_ASSURANCE_LEVELS } from '../domain/types.js';
import type { IdmClient } from './client.js';
import { IdmError, type IdmErrorCode } from './errors.js';
import { type FindHints, findBySubjectNameId } from './operations.js';
import { subjectNameIdSchema } from './schemas.js';

export const IDM_JOB_KINDS = ['bind', 'contact-change', 'suspend-person', 'reactivate-person', 'end-binding'] as const;
export type IdmJobKind = (typeof IDM_JOB_KINDS)[number];

const profileSchema = z
  .object({ givenName: z.string().min(1).max(200), surname: z.string().min(1).max(200), email: z.string().max(254), ial: z.enum(IDENTITY_ASSURANCE_LEVELS) })
  .strict();

const base = {
  /** Unique per change: the outbox de-duplicates on it. */
  key: z.string().min(1).max(200),
  personId: z.string().min(1).max(100),
  subjectNameId: subjectNameIdSchema,
  /** The employee uuid in MitID Erhverv when the gateway knows it. */
  employeeUuid: z.string().uuid().nullable(),
  /** The person's email when the job was made: a hint to find their employee quickly. */
  email: z.string().max(254).nullable(),
};

/** Jobs as stored (JSON in the outbox) and read back. */
export const idmJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bind'), ...base, profile: profileSchema, rid: z.string().regex(/^\d{1,12}$/).nullable() }).strict(),
  /** `identifying`: the name changed too (PUT profile); otherwise only the email (PUT profile/nonsensitive). */
  z.object({ kind: z.literal('contact-change'), ...base, profile: profileSchema, identifying: z.boolean() }).strict(),
  z.object({ kind: z.literal('suspend-person'), ...base }).strict(),
  z.object({ kind: z.literal('reactivate-person'), ...base }).strict(),
  z.object({ kind: z.literal('end-binding'), ...base }).strict(),
]);
export type IdmJob = z.infer<typeof idmJobSchema>;

export type DoneNote =
  | 'created'
  | 'linked'
  | 'updated'
  | 'suspended'
  | 'already-suspended'
  | 'reactivated'
  | 'already-active'
  | 'deleted'
  | 'already-gone'
  /** No employee carries the person's subject name id: nothing to change (reconciliation reports it). */
  | 'not-there';

export type JobFailureCode = IdmErrorCode | 'CONFLICT_UNRESOLVED' | 'INTERNAL';

export type JobOutcome =
  /** `employeeUuid`: what the gateway should now hold as the person's employee (null: none). */
  | { status: 'done'; note: DoneNote; employeeUuid: string | null }
  | { status: 'retry'; code: IdmErrorCode; reason: string; retryAfterSeconds: number | null }
  | { status: 'failed'; code: JobFailureCode; reason: string };

export interface RunJobOptions {
  /** Most employees whose authenticators one search reads (the exhaustive search after a 409). */
  maxScan: number;
}

export const DEFAULT_RUN_JOB_OPTIONS: Readonly<RunJobOptions> = Object.freeze({ maxScan: 20_000 });

const done = (note: DoneNote, employeeUuid: string | null): JobOutcome => ({ status: 'done', note, employeeUuid });

class JobRunner {
  constructor(
    private readonly client: IdmClient,
    private readonly options: RunJobOptions,
  ) {}

  private find(job: IdmJob, exhaustive: boolean, hints: FindHints = { email: job.email }) {
    return findBySubjectNameId(this.client, job.subjectNameId, hints, { exhaustive, maxScan: this.options.maxScan });
  }

  /** NSIS 5.2: the person exists at MitID Erhverv with the Local IdP and our subject name id. */
  async bind(job: Extract<IdmJob, { kind: 'bind' }>): Promise<JobOutcome> {
    if (job.employeeUuid && (await this.client.getEmployee(job.employeeUuid))) return done('linked', job.employeeUuid);
    const hints = { email: job.profile.email, rid: job.rid };
    const existing = await this.find(job, false, hints);
    if (existing) return done('linked', existing.uuid);
    try {
      const uuid = await this.client.createEmployee({ ...job.profile, subjectNameId: job.subjectNameId, rid: job.rid });
      return done('created', uuid);
    } catch (err) {
      if (!(err instanceof IdmError && err.code === 'IDM_CONFLICT')) throw err;
      // 409: an account exists. Ours if it carries our subject name id: link to it.
      const found = await this.find(job, true, hints);
      if (found) return done('linked', found.uuid);
      return {
        status: 'failed',
        code: 'CONFLICT_UNRESOLVED',
        reason: `MitID Erhverv refused the new employee as a duplicate (409), and no employee carries the subject name id ${job.subjectNameId}: link or remove the existing account by hand.`,
      };
    }
  }

  /** Runs `act` on the person's employee, finding it by subject name id when the uuid is unknown or stale. */
  async onEmployee(job: IdmJob, act: (uuid: string) => Promise<DoneNote>): Promise<JobOutcome> {
    let uuid = job.employeeUuid;
    if (uuid === null) {
      const found = await this.find(job, true);
      if (!found) return done('not-there', null);
      uuid = found.uuid;
    }
    try {
      return done(await act(uuid), uuid);
    } catch (err) {
      if (!(err instanceof IdmError && err.code === 'IDM_NOT_FOUND')) throw err;
      const found = await this.find(job, true);
      if (!found || found.uuid === uuid) return done('not-there', null);
      return done(await act(found.uuid), found.uuid);
    }
  }

  /** A state change that answers 4xx is done if the employee is already in that state. */
  async toState(uuid: string, change: (uuid: string) => Promise<void>, want: 'Active' | 'Suspended'): Promise<DoneNote> {
    try {
      await change(uuid);
      return want === 'Suspended' ? 'suspended' : 'reactivated';
    } catch (err) {
      if (!(err instanceof IdmError) || (err.code !== 'IDM_CONFLICT' && err.code !== 'IDM_REJECTED')) throw err;
      const now = await this.client.getEmployee(uuid);
      if (now?.identityProfile.status === want) return want === 'Suspended' ? 'already-suspended' : 'already-active';
      throw err;
    }
  }

  async run(job: IdmJob): Promise<JobOutcome> {
    switch (job.kind) {
      case 'bind':
        return this.bind(job);
      case 'contact-change':
        return this.onEmployee(job, async (uuid) => {
          if (job.identifying) await this.client.updateProfile(uuid, job.profile);
          else await this.client.updateEmail(uuid, job.profile.email);
          return 'updated';
        });
      case 'suspend-person':
        return this.onEmployee(job, (uuid) => this.toState(uuid, (u) => this.client.suspend(u), 'Suspended'));
      case 'reactivate-person':
        return this.onEmployee(job, (uuid) => this.toState(uuid, (u) => this.client.reactivate(u), 'Active'));
      case 'end-binding': {
        // A 404 on delete: gone at that uuid; onEmployee then looks for the subject name id elsewhere.
        const outcome = await this.onEmployee(job, async (uuid) => {
          if ((await this.client.deleteEmployee(uuid)) === 'deleted') return 'deleted';
          throw new IdmError('IDM_NOT_FOUND', 'IdM delete employee: already gone');
        });
        // NSIS 5.2 (Low) 3: the binding is removed there too; the person is gone from MitID Erhverv.
        if (outcome.status !== 'done') return outcome;
        return { status: 'done', note: outcome.note === 'not-there' ? 'already-gone' : outcome.note, employeeUuid: null };
      }
    }
  }
}

/** Carries out one job against the IdM API. Never throws. */
export async function runJob(job: IdmJob, client: IdmClient, options: RunJobOptions = DEFAULT_RUN_JOB_OPTIONS): Promise<JobOutcome> {
  try {
    return await new JobRunner(client, options).run(job);
  } catch (err) {
    if (err instanceof IdmError) {
      if (err.retryable) return { status: 'retry', code: err.code, reason: err.message, retryAfterSeconds: err.retryAfterSeconds ?? null };
      return { status: 'failed', code: err.code, reason: err.message };
    }
    return { status: 'failed', code: 'INTERNAL', reason: err instanceof Error ? err.message : String(err) };
  }
}
