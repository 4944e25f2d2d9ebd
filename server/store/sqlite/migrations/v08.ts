/** Migration 8: audit events by actor: a person's own trail stays an index lookup at a million keys. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 8,
  name: 'audit events by actor: a person\'s own trail stays an index lookup at a million keys',
  sql: `CREATE INDEX audit_events_actor ON audit_events(actor_id);`,
};
