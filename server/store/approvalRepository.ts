/**
 * The one approvals table: every action of the duties table that waits for a second person
 * (contact changes, staff-role grants, replacements, bulk actions, HSM key management), with the
 * role its requester asked in and the role its approver held (NSIS 3.2.2 (High) 3, 3.2.3 (Low) 2,
 * 3.2.4, 5.1, 6 (Substantial) 11).
 */
import type Database from 'better-sqlite3';
import { APPROVAL_KINDS, STAFF_ROLES, type ApprovalKind, type StaffRole } from '../duties/table.js';
import * as rows from './sqlite/rows.js';

import type { ApprovalRecord, NewApproval } from '../domain/approvals.js';

export type { ApprovalKind, ApprovalRecord, ApprovalState, NewApproval } from '../domain/approvals.js';

const STATES = ['pending', 'executed', 'rejected', 'failed', 'withdrawn'] as const;

function stringArray(text: string, key: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((v): v is string => typeof v === 'string')) throw new TypeError(`store: approvals.${key} is not a list of strings`);
  return parsed;
}

function approvalRow(r: unknown): ApprovalRecord {
  const decidedRole = rows.strOrNull(r, 'decided_role');
  return {
    id: rows.str(r, 'id'),
    kind: rows.oneOf(r, 'kind', APPROVAL_KINDS),
    payload: rows.str(r, 'payload'),
    summary: rows.str(r, 'summary'),
    items: stringArray(rows.str(r, 'items'), 'items'),
    subjects: stringArray(rows.str(r, 'subjects'), 'subjects'),
    requestedBy: rows.str(r, 'requested_by'),
    requestedRole: rows.oneOf(r, 'requested_role', STAFF_ROLES),
    requestedAt: rows.str(r, 'requested_at'),
    state: rows.oneOf(r, 'state', STATES),
    decidedBy: rows.strOrNull(r, 'decided_by'),
    decidedRole: decidedRole === null ? null : rows.oneOf(r, 'decided_role', STAFF_ROLES),
    decidedAt: rows.strOrNull(r, 'decided_at'),
    result: rows.strOrNull(r, 'result'),
  };
}

export class ApprovalRepository {
  constructor(private readonly db: Database.Database) {}

  insert(a: NewApproval): void {
    this.db
      .prepare(
        `INSERT INTO approvals (id, kind, payload, summary, items, subjects, requested_by, requested_role, requested_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
      )
      .run(a.id, a.kind, a.payload, a.summary, JSON.stringify(a.items), JSON.stringify(a.subjects), a.requestedBy, a.requestedRole, a.requestedAt);
  }

  get(id: string): ApprovalRecord | undefined {
    const r = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id);
    return r === undefined ? undefined : approvalRow(r);
  }

  /** Newest first, optionally only some kinds. */
  list(kinds: readonly ApprovalKind[] = APPROVAL_KINDS, limit = 100): ApprovalRecord[] {
    return this.db
      .prepare(`SELECT * FROM approvals WHERE kind IN (SELECT value FROM json_each(?)) ORDER BY requested_at DESC, rowid DESC LIMIT ?`)
      .all(JSON.stringify(kinds), limit)
      .map(approvalRow);
  }

  pending(): ApprovalRecord[] {
    return this.db.prepare("SELECT * FROM approvals WHERE state = 'pending' ORDER BY requested_at").all().map(approvalRow);
  }

  /** Single use: only the first decision on a pending request counts. */
  decide(id: string, state: 'executed' | 'rejected', by: string, role: StaffRole | null, at: string, result: string | null): boolean {
    return (
      this.db
        .prepare("UPDATE approvals SET state = ?, decided_by = ?, decided_role = ?, decided_at = ?, result = ? WHERE id = ? AND state = 'pending'")
        .run(state, by, role, at, result, id).changes === 1
    );
  }

  /** A pending request whose requester lost the role (or binding) it needed; false if already decided. */
  withdraw(id: string, at: string, why: string): boolean {
    return (
      this.db
        .prepare("UPDATE approvals SET state = 'withdrawn', decided_at = ?, result = ? WHERE id = ? AND state = 'pending'")
        .run(at, why, id).changes === 1
    );
  }

  setResult(id: string, state: 'executed' | 'failed', result: string): void {
    this.db.prepare('UPDATE approvals SET state = ?, result = ? WHERE id = ?').run(state, result, id);
  }
}
