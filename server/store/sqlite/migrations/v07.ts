/** Migration 7: enrolment links count failed registrations and lock. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 7,
  name: 'enrolment links count failed registrations and lock',
  sql: `ALTER TABLE enrolments ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrolments ADD COLUMN locked_at TEXT;`,
};
