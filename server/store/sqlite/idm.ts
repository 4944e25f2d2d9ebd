/** Subject name ids and the IdM job queue (issue 18). One writer per file: a claim is one UPDATE. */
import { IDM_JOB_STATES, type IdmJobRecord, type IdmJobResult, type IdmJobState, type IdmPerson, type NewIdmJob } from '../../domain/idm.js';
import type { IdmRepo } from '../../ports/idm.js';
import type { Connection } from './connection.js';
import { storeErrorOf } from './errors.js';
import { num, oneOf, str, strOrNull } from './rows.js';

function person(r: unknown): IdmPerson {
  return { identityId: str(r, 'identity_id'), subjectNameId: str(r, 'subject_name_id'), employeeUuid: strOrNull(r, 'employee_uuid'), createdAt: str(r, 'created_at') };
}

function job(r: unknown): IdmJobRecord {
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

export class SqliteIdm implements IdmRepo {
  constructor(private readonly db: Connection) {}

  async person(identityId: string): Promise<IdmPerson | undefined> {
    const r = this.db.prepare('SELECT * FROM idm_people WHERE identity_id = ?').get(identityId);
    return r === undefined ? undefined : person(r);
  }

  async bySubjectNameId(subjectNameId: string): Promise<IdmPerson | undefined> {
    const r = this.db.prepare('SELECT * FROM idm_people WHERE subject_name_id = ?').get(subjectNameId);
    return r === undefined ? undefined : person(r);
  }

  async people(): Promise<IdmPerson[]> {
    return this.db.prepare('SELECT * FROM idm_people ORDER BY identity_id').all().map(person);
  }

  async unlinked(limit: number): Promise<string[]> {
    const rows = this.db
      .prepare("SELECT i.id FROM identities i WHERE i.binding_state = 'active' AND NOT EXISTS (SELECT 1 FROM idm_people p WHERE p.identity_id = i.id) ORDER BY i.created_at, i.id LIMIT ?")
      .all(limit);
    return rows.map((r) => str(r, 'id'));
  }

  async jobs(limit: number): Promise<IdmJobRecord[]> {
    return this.db.prepare('SELECT * FROM idm_jobs ORDER BY seq DESC LIMIT ?').all(limit).map(job);
  }

  async jobsOf(identityId: string): Promise<IdmJobRecord[]> {
    return this.db.prepare('SELECT * FROM idm_jobs WHERE identity_id = ? ORDER BY seq').all(identityId).map(job);
  }

  async counts(): Promise<Record<IdmJobState, number>> {
    const out: Record<IdmJobState, number> = { pending: 0, done: 0, failed: 0 };
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM idm_jobs GROUP BY state').all()) out[oneOf(r, 'state', IDM_JOB_STATES)] = num(r, 'n');
    return out;
  }

  async insertPerson(p: IdmPerson): Promise<void> {
    try {
      this.db.prepare('INSERT INTO idm_people (identity_id, subject_name_id, employee_uuid, created_at) VALUES (?, ?, ?, ?)').run(p.identityId, p.subjectNameId, p.employeeUuid, p.createdAt);
    } catch (err) {
      throw storeErrorOf(err);
    }
  }

  async setEmployeeUuid(identityId: string, employeeUuid: string | null): Promise<void> {
    this.db.prepare('UPDATE idm_people SET employee_uuid = ? WHERE identity_id = ?').run(employeeUuid, identityId);
  }

  async enqueue(j: NewIdmJob): Promise<void> {
    this.db
      .prepare("INSERT INTO idm_jobs (id, identity_id, kind, payload, state, next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)")
      .run(j.id, j.identityId, j.kind, j.payload, j.createdAt, j.createdAt);
  }

  async claimDue(at: string, leaseUntil: string, holder: string, limit: number): Promise<IdmJobRecord[]> {
    return this.db
      .prepare(
        `UPDATE idm_jobs SET lease_until = ?, claimed_by = ?, attempts = attempts + 1
         WHERE seq IN (
           SELECT j.seq FROM idm_jobs j
           WHERE j.state = 'pending' AND j.next_attempt_at <= ? AND (j.lease_until IS NULL OR j.lease_until <= ?)
             AND NOT EXISTS (SELECT 1 FROM idm_jobs e WHERE e.identity_id = j.identity_id AND e.seq < j.seq AND e.state = 'pending')
           ORDER BY j.seq LIMIT ?)
         RETURNING *`,
      )
      .all(leaseUntil, holder, at, at, limit)
      .map(job)
      .sort((a, b) => a.seq - b.seq);
  }

  async finish(seq: number, holder: string, attempts: number, result: IdmJobResult, at: string): Promise<boolean> {
    const fence = "WHERE seq = ? AND claimed_by = ? AND attempts = ? AND state = 'pending' AND lease_until IS NOT NULL";
    const run = (set: string, ...values: (string | null)[]) => this.db.prepare(`UPDATE idm_jobs SET ${set}, lease_until = NULL ${fence}`).run(...values, seq, holder, attempts).changes === 1;
    switch (result.state) {
      case 'done':
        return run("state = 'done', note = ?, finished_at = ?", result.note, at);
      case 'failed':
        return run("state = 'failed', last_error = ?, finished_at = ?", result.error, at);
      case 'pending':
        return run('last_error = ?, next_attempt_at = ?', result.error, result.nextAttemptAt);
    }
  }
}

