/** The one approvals table: every four-eyes action of the duties table (server/duties). */
import type { ApprovalKind, ApprovalRecord, NewApproval } from '../../domain/approvals.js';
import { APPROVAL_KINDS, type StaffRole } from '../../duties/table.js';
import type { ApprovalRepo } from '../../ports/repositories.js';
import type { Connection } from './connection.js';
import { approval } from './recordRows.js';

export class SqliteApprovals implements ApprovalRepo {
  constructor(private readonly db: Connection) {}

  async insert(a: NewApproval): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO approvals (id, kind, payload, summary, items, subjects, requested_by, requested_role, requested_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
      )
      .run(a.id, a.kind, a.payload, a.summary, JSON.stringify(a.items), JSON.stringify(a.subjects), a.requestedBy, a.requestedRole, a.requestedAt);
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id);
    return r === undefined ? undefined : approval(r);
  }

  async list(kinds: readonly ApprovalKind[] = APPROVAL_KINDS, limit = 100): Promise<ApprovalRecord[]> {
    return this.db
      .prepare('SELECT * FROM approvals WHERE kind IN (SELECT value FROM json_each(?)) ORDER BY requested_at DESC, rowid DESC LIMIT ?')
      .all(JSON.stringify(kinds), limit)
      .map(approval);
  }

  async pending(): Promise<ApprovalRecord[]> {
    return this.db.prepare("SELECT * FROM approvals WHERE state = 'pending' ORDER BY requested_at").all().map(approval);
  }

  async decide(id: string, state: 'executed' | 'rejected', by: string, role: StaffRole | null, at: string, result: string | null): Promise<boolean> {
    return (
      this.db
        .prepare("UPDATE approvals SET state = ?, decided_by = ?, decided_role = ?, decided_at = ?, result = ? WHERE id = ? AND state = 'pending'")
        .run(state, by, role, at, result, id).changes === 1
    );
  }

  async withdraw(id: string, at: string, why: string): Promise<boolean> {
    return this.db.prepare("UPDATE approvals SET state = 'withdrawn', decided_at = ?, result = ? WHERE id = ? AND state = 'pending'").run(at, why, id).changes === 1;
  }

  async setResult(id: string, state: 'executed' | 'failed', result: string): Promise<void> {
    this.db.prepare('UPDATE approvals SET state = ?, result = ? WHERE id = ?').run(state, result, id);
  }
}
