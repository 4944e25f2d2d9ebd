/**
 * Who set up each identity: created it, granted each staff role, changed its contact data or its
 * name, and who approved that (append-only). The duties flow asks it whether an approver is a
 * person the requester set up (the "fake second person"), and whether an address was set up by
 * an enrolment's issuer alone (NSIS 3.2.2 (High) 3).
 */
import type Database from 'better-sqlite3';
import * as rows from './sqlite/rows.js';

import type { SetupRecord } from '../domain/identities.js';

export type { SetupAspect, SetupRecord } from '../domain/identities.js';
const ASPECTS = ['identity', 'role', 'contact', 'name'] as const;

function setupRow(r: unknown): SetupRecord {
  return {
    identityId: rows.str(r, 'identity_id'),
    aspect: rows.oneOf(r, 'aspect', ASPECTS),
    detail: rows.strOrNull(r, 'detail'),
    setBy: rows.strOrNull(r, 'set_by'),
    approvedBy: rows.strOrNull(r, 'approved_by'),
    at: rows.str(r, 'at'),
  };
}

export class SetupRepository {
  constructor(private readonly db: Database.Database) {}

  record(s: SetupRecord): void {
    this.db
      .prepare('INSERT INTO identity_setups (identity_id, aspect, detail, set_by, approved_by, at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(s.identityId, s.aspect, s.detail, s.setBy, s.approvedBy, s.at);
  }

  /** True if `by` ever created or changed the identity, a role of it, or its contact data or name. */
  setUpBy(identityId: string, by: string): boolean {
    return this.db.prepare('SELECT 1 FROM identity_setups WHERE identity_id = ? AND set_by = ? LIMIT 1').get(identityId, by) !== undefined;
  }

  /** The change that set the identity's current contact data, if it was ever changed after creation. */
  lastContactChange(identityId: string): SetupRecord | undefined {
    const r = this.db.prepare("SELECT * FROM identity_setups WHERE identity_id = ? AND aspect = 'contact' ORDER BY id DESC LIMIT 1").get(identityId);
    return r === undefined ? undefined : setupRow(r);
  }

  listFor(identityId: string): SetupRecord[] {
    return this.db.prepare('SELECT * FROM identity_setups WHERE identity_id = ? ORDER BY id').all(identityId).map(setupRow);
  }
}
