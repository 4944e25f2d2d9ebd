/**
 * Four-eyes approvals for console actions: bulk suspensions/revocations and replacements based
 * on a second person's approval (NSIS 3.2.3 (Low) 2, 3.2.4, 5.1).
 */
import type Database from 'better-sqlite3';
import * as rows from './rows.js';

export type ApprovalKind = 'bulk' | 'replacement';
export type ApprovalState = 'pending' | 'executed' | 'rejected' | 'failed';

export interface ApprovalRecord {
  id: string;
  kind: ApprovalKind;
  payload: string;
  summary: string;
  requestedBy: string;
  requestedAt: string;
  state: ApprovalState;
  decidedBy: string | null;
  decidedAt: string | null;
  result: string | null;
}

function approvalRow(r: unknown): ApprovalRecord {
  return {
    id: rows.str(r, 'id'),
    kind: rows.oneOf(r, 'kind', ['bulk', 'replacement'] as const),
    payload: rows.str(r, 'payload'),
    summary: rows.str(r, 'summary'),
    requestedBy: rows.str(r, 'requested_by'),
    requestedAt: rows.str(r, 'requested_at'),
    state: rows.oneOf(r, 'state', ['pending', 'executed', 'rejected', 'failed'] as const),
    decidedBy: rows.strOrNull(r, 'decided_by'),
    decidedAt: rows.strOrNull(r, 'decided_at'),
    result: rows.strOrNull(r, 'result'),
  };
}

export class ApprovalRepository {
  constructor(private readonly db: Database.Database) {}

  insert(a: Omit<ApprovalRecord, 'state' | 'decidedBy' | 'decidedAt' | 'result'>): void {
    this.db
      .prepare(
        `INSERT INTO approvals (id, kind, payload, summary, requested_by, requested_at, state)
         VALUES (?, ?, ?, ?, ?, ?, 'pending')`,
      )
      .run(a.id, a.kind, a.payload, a.summary, a.requestedBy, a.requestedAt);
  }

  get(id: string): ApprovalRecord | undefined {
    const r = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id);
    return r === undefined ? undefined : approvalRow(r);
  }

  list(limit = 100): ApprovalRecord[] {
    return this.db.prepare('SELECT * FROM approvals ORDER BY requested_at DESC LIMIT ?').all(limit).map(approvalRow);
  }

  setResult(id: string, state: 'executed' | 'failed', result: string): void {
    this.db.prepare('UPDATE approvals SET state = ?, result = ? WHERE id = ?').run(state, result, id);
  }

  /** Single use: only the first decision on a pending approval counts. */
  decide(id: string, state: Exclude<ApprovalState, 'pending'>, by: string, at: string, result: string | null): boolean {
    return (
      this.db
        .prepare("UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?, result = ? WHERE id = ? AND state = 'pending'")
        .run(state, by, at, result, id).changes === 1
    );
  }
}
