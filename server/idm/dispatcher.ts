/**
 * Runs the IdM jobs (issue 18) queued in the store: claims due jobs (one claimer per job across
 * processes and instances, one person's jobs in order; store port IdmRepo), runs each against
 * MitID Erhverv with runJob (idempotent: the subject name id is the person's mark there), and
 * records the outcome fenced by the claim, with the employee uuid learnt and an audit event, in
 * one transaction. A crash between the call and the record leaves the job claimed until its lease
 * runs out; the next claimer runs it again and runJob links instead of creating twice.
 * Retries follow DEFAULT_BACKOFF; a job that fails for good stays visible as failed with its reason.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { IdmJobRecord } from '../domain/idm.js';
import { SYSTEM_ACTOR } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { Store } from '../ports/store.js';
import { DEFAULT_BACKOFF, nextStep } from './backoff.js';
import type { IdmClient } from './client.js';
import { type JobOutcome, idmJobSchema, runJob } from './jobs.js';

/** Longer than a job's calls can take (each has its own deadline, GATEWAY_IDM_TIMEOUT_MS); GATEWAY_IDM_LEASE_SECONDS. */
const DEFAULT_LEASE_MS = 10 * 60_000;
const BATCH = 10;

export class IdmDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  readonly holder = `idm-${randomUUID()}`;

  constructor(
    private readonly store: Store,
    private readonly client: IdmClient,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly leaseMs: number = DEFAULT_LEASE_MS,
  ) {}

  /** Runs every job due now (batch after batch); resolves with how many were run. Concurrent calls share one run. */
  runOnce(): Promise<number> {
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return this.running;
  }

  start(intervalMs = 5_000): void {
    this.timer = setInterval(() => {
      this.runOnce().catch((err: unknown) => this.log.error({ err }, 'idm jobs failed; will retry'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.client.close();
  }

  private async drain(): Promise<number> {
    let ran = 0;
    for (;;) {
      const now = this.clock.now();
      const claimed = await this.store.write((tx) => tx.idm.claimDue(now.toISOString(), new Date(now.getTime() + this.leaseMs).toISOString(), this.holder, BATCH));
      if (claimed.length === 0) return ran;
      for (const record of claimed) {
        await this.run(record);
        ran++;
      }
    }
  }

  private async run(record: IdmJobRecord): Promise<void> {
    const parsed = idmJobSchema.safeParse(JSON.parse(record.payload));
    let outcome: JobOutcome;
    if (!parsed.success) {
      outcome = { status: 'failed', code: 'INTERNAL', reason: 'the stored job does not parse' };
    } else {
      const person = await this.store.read((tx) => tx.idm.person(record.identityId));
      outcome = await runJob({ ...parsed.data, employeeUuid: person?.employeeUuid ?? parsed.data.employeeUuid }, this.client);
    }
    const now = this.clock.now();
    const step = nextStep(DEFAULT_BACKOFF, record.attempts, outcome, now, Math.random);
    const at = now.toISOString();
    await this.store.write(async (tx) => {
      const result =
        step.state === 'done' && outcome.status === 'done'
          ? ({ state: 'done', note: outcome.note } as const)
          : step.state === 'pending'
            ? ({ state: 'pending', error: step.lastError, nextAttemptAt: step.notBefore.toISOString() } as const)
            : ({ state: 'failed', error: step.state === 'failed' ? step.reason : 'unknown' } as const);
      // Fenced: a claimer whose lease was taken over records nothing (the new claimer will).
      if (!(await tx.idm.finish(record.seq, this.holder, record.attempts, result, at))) return;
      if (outcome.status === 'done' && outcome.employeeUuid !== null) await tx.idm.setEmployeeUuid(record.identityId, outcome.employeeUuid);
      await tx.audit.append({
        at,
        type: result.state === 'done' ? 'idm.job-done' : result.state === 'failed' ? 'idm.job-failed' : 'idm.job-retry',
        actorId: SYSTEM_ACTOR.identityId,
        actorRole: SYSTEM_ACTOR.role,
        subjectId: record.identityId,
        data: { job: record.id, kind: record.kind, attempts: record.attempts, ...(result.state === 'done' ? { note: result.note } : { error: result.error.slice(0, 300) }) },
      });
    });
  }
}
