/**
 * Streams the audit_events table of an open database through the chain verifier. Used by the
 * `audit:verify` command and by tests on backups; reads only, never changes the database.
 */
import type Database from 'better-sqlite3';
import { auditEntry } from '../store/rows.js';
import { verifyChain, type AuditEntry, type ChainVerdict } from './hashChain.js';

export function verifyAuditFile(db: Database.Database): ChainVerdict {
  const stmt = db.prepare('SELECT * FROM audit_events ORDER BY seq');
  function* entries(): Generator<AuditEntry> {
    for (const row of stmt.iterate()) yield auditEntry(row);
  }
  return verifyChain(entries());
}
