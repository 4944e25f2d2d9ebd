/** Migration 9: a key's registration in its state history says registered, not other. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 9,
  name: 'a key\'s registration in its state history says registered, not other',
  // The history row of action `issue` carried the placeholder reason `other`, which pages showed
  // as "Reason: other". Its audit event (credential.issued) names no reason, so the chain is
  // untouched.
  sql: `UPDATE credential_events SET reason = 'registered' WHERE action = 'issue' AND reason = 'other';`,
};
