/** The one approvals table: every four-eyes action of the duties table (server/duties). */
import type { ApprovalKind, ApprovalRecord, NewApproval } from '../../domain/approvals.js';
import { APPROVAL_KINDS, type StaffRole } from '../../duties/table.js';
import type { ApprovalRepo } from '../../ports/repositories.js';
import { insertOrConflict } from './conflict.js';
import type { Sql } from './pool.js';
import * as records from './records.js';

export class PgApprovals implements ApprovalRepo {
  constructor(private readonly sql: Sql) {}

  async insert(a: NewApproval): Promise<void> {
    await insertOrConflict(
      this.sql,
      `INSERT INTO approvals (id, kind, payload, summary, items, subjects, requested_by, requested_role, requested_at, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending') ON CONFLICT DO NOTHING`,
      [a.id, a.kind, a.payload, a.summary, JSON.stringify(a.items), JSON.stringify(a.subjects), a.requestedBy, a.requestedRole, a.requestedAt],
    );
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const [r] = await this.sql.rows('SELECT * FROM approvals WHERE id = $1', [id]);
    return r === undefined ? undefined : records.approval(r);
  }

  async list(kinds: readonly ApprovalKind[] = APPROVAL_KINDS, limit = 100): Promise<ApprovalRecord[]> {
    // SQLite orders ties of request time by insertion (rowid); PostgreSQL by id.
    const rows = await this.sql.rows('SELECT * FROM approvals WHERE kind = ANY($1::text[]) ORDER BY requested_at DESC, id COLLATE "C" DESC LIMIT $2', [[...kinds], limit]);
    return rows.map(records.approval);
  }

  async pending(): Promise<ApprovalRecord[]> {
    return (await this.sql.rows("SELECT * FROM approvals WHERE state = 'pending' ORDER BY requested_at, id COLLATE \"C\"")).map(records.approval);
  }

  async decide(id: string, state: 'executed' | 'rejected', by: string, role: StaffRole | null, at: string, result: string | null): Promise<boolean> {
    return (
      (await this.sql.count("UPDATE approvals SET state = $1, decided_by = $2, decided_role = $3, decided_at = $4, result = $5 WHERE id = $6 AND state = 'pending'", [
        state,
        by,
        role,
        at,
        result,
        id,
      ])) === 1
    );
  }

  async withdraw(id: string, at: string, why: string): Promise<boolean> {
    return (await this.sql.count("UPDATE approvals SET state = 'withdrawn', decided_at = $1, result = $2 WHERE id = $3 AND state = 'pending'", [at, why, id])) === 1;
  }

  async setResult(id: string, state: 'executed' | 'failed', result: string): Promise<void> {
    await this.sql.count('UPDATE approvals SET state = $1, result = $2 WHERE id = $3', [state, result, id]);
  }
}
