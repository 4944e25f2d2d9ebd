/**
 * Subject name ids and the IdM job queue (issue 18). Claims take the due rows FOR UPDATE SKIP
 * LOCKED, so instances claiming at the same moment never take the same job; the person-order
 * check sees every earlier job of the person still pending (leased or not).
 */
import { IDM_JOB_STATES, type IdmJobRecord, type IdmJobResult, type IdmJobState, type IdmPerson, type NewIdmJob } from '../../domain/idm.js';
import type { IdmRepo } from '../../ports/idm.js';
import { insertOrConflict } from './conflict.js';
import type { Row, Sql } from './pool.js';
import { num, oneOf, str, strOrNull } from './rows.js';

function person(r: Row): IdmPerson {
  return { identityId: str(r, 'identity_id'), subjectNameId: str(r, 'subject_name_id'), employeeUuid: strOrNull(r, 'employee_uuid'), createdAt: str(r, 'created_at') };
}

function job(r: Row): IdmJobRecord {
  return {
    seq: num(r, 'seq'),
    id: str(r, 'id'),
    identityId: str(r, 'identity_id'),
    kind: str(r, 'kind'),
    payload: str(r, 'payload'),
    state: oneOf(r, 'state', IDM_JOB_STATES),
    attempts: num(r, 'attempts'),
    nextAttemptAt: str(r, 'next_attempt_at'),
    leaseUntil: strOrNull(r, 'lease_until'),
    claimedBy: strOrNull(r, 'claimed_by'),
    lastError: strOrNull(r, 'last_error'),
    note: strOrNull(r, 'note'),
    createdAt: str(r, 'created_at'),
    finishedAt: strOrNull(r, 'finished_at'),
  };
}

export class PgIdm implements IdmRepo {
  constructor(private readonly sql: Sql) {}

  async person(identityId: string): Promise<IdmPerson | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM idm_people WHERE identity_id = $1', [identityId]);
    return r === undefined ? undefined : person(r);
  }

  async people(): Promise<IdmPerson[]> {
    return (await this.sql.rows('SELECT * FROM idm_people ORDER BY identity_id', [])).map(person);
  }

  async unlinked(limit: number): Promise<string[]> {
    const rows = await this.sql.rows(
      "SELECT i.id FROM identities i WHERE i.binding_state = 'active' AND NOT EXISTS (SELECT 1 FROM idm_people p WHERE p.identity_id = i.id) ORDER BY i.created_at, i.id LIMIT $1",
      [limit],
    );
    return rows.map((r) => str(r, 'id'));
  }

  async bySubjectNameId(subjectNameId: string): Promise<IdmPerson | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM idm_people WHERE subject_name_id = $1', [subjectNameId]);
    return r === undefined ? undefined : person(r);
  }

  async jobs(limit: number): Promise<IdmJobRecord[]> {
    return (await this.sql.rows('SELECT * FROM idm_jobs ORDER BY seq DESC LIMIT $1', [limit])).map(job);
  }

  async jobsOf(identityId: string): Promise<IdmJobRecord[]> {
    return (await this.sql.rows('SELECT * FROM idm_jobs WHERE identity_id = $1 ORDER BY seq', [identityId])).map(job);
  }

  async counts(): Promise<Record<IdmJobState, number>> {
    const out: Record<IdmJobState, number> = { pending: 0, done: 0, failed: 0 };
    for (const r of await this.sql.rows('SELECT state, COUNT(*) AS n FROM idm_jobs GROUP BY state')) out[oneOf(r, 'state', IDM_JOB_STATES)] = num(r, 'n');
    return out;
  }

  async insertPerson(p: IdmPerson): Promise<void> {
    await insertOrConflict(this.sql, 'INSERT INTO idm_people (identity_id, subject_name_id, employee_uuid, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
      p.identityId,
      p.subjectNameId,
      p.employeeUuid,
      p.createdAt,
    ]);
  }

  async setEmployeeUuid(identityId: string, employeeUuid: string | null): Promise<void> {
    await this.sql.count('UPDATE idm_people SET employee_uuid = $1 WHERE identity_id = $2', [employeeUuid, identityId]);
  }

  async enqueue(j: NewIdmJob): Promise<void> {
    await this.sql.count("INSERT INTO idm_jobs (id, identity_id, kind, payload, state, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', $5, $5)", [
      j.id,
      j.identityId,
      j.kind,
      j.payload,
      j.createdAt,
    ]);
  }

  async claimDue(at: string, leaseUntil: string, holder: string, limit: number): Promise<IdmJobRecord[]> {
    const rows = await this.sql.rows(
      `WITH due AS (
         SELECT j.seq FROM idm_jobs j
         WHERE j.state = 'pending' AND j.next_attempt_at <= $1 AND (j.lease_until IS NULL OR j.lease_until <= $1)
           AND NOT EXISTS (SELECT 1 FROM idm_jobs e WHERE e.identity_id = j.identity_id AND e.seq < j.seq AND e.state = 'pending')
         ORDER BY j.seq LIMIT $4
         FOR UPDATE SKIP LOCKED)
       UPDATE idm_jobs SET lease_until = $2, claimed_by = $3, attempts = attempts + 1
       FROM due WHERE idm_jobs.seq = due.seq AND idm_jobs.state = 'pending' AND (idm_jobs.lease_until IS NULL OR idm_jobs.lease_until <= $1)
       RETURNING idm_jobs.*`,
      [at, leaseUntil, holder, limit],
    );
    return rows.map(job).sort((a, b) => a.seq - b.seq);
  }

  async finish(seq: number, holder: string, attempts: number, result: IdmJobResult, at: string): Promise<boolean> {
    const fence = "WHERE seq = $1 AND claimed_by = $2 AND attempts = $3 AND state = 'pending' AND lease_until IS NOT NULL";
    const run = async (set: string, a: string, b: string) => (await this.sql.count(`UPDATE idm_jobs SET ${set}, lease_until = NULL ${fence}`, [seq, holder, attempts, a, b])) === 1;
    switch (result.state) {
      case 'done':
        return run("state = 'done', note = $4, finished_at = $5", result.note, at);
      case 'failed':
        return run("state = 'failed', last_error = $4, finished_at = $5", result.error, at);
      case 'pending':
        return run('last_error = $4, next_attempt_at = $5', result.error, result.nextAttemptAt);
    }
  }
}
