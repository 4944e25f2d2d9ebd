/** Migration 18: a language per person (issue 16, "mails in the person's language"). */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 18,
  name: 'a language per person',
  // NULL: the person has not chosen; the organisation's default (GATEWAY_DEFAULT_LANGUAGE) applies.
  sql: `ALTER TABLE identities ADD COLUMN language TEXT CHECK (language IS NULL OR language IN ('da', 'en'));`,
};
