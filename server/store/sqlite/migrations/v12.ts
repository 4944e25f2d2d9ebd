/** Migration 12: activation codes are minted at delivery: never stored in clear (outbox secret reference, mint time). */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 12,
  name: 'activation codes are minted at delivery: never stored in clear (outbox secret reference, mint time)',
  sql: `ALTER TABLE outbox ADD COLUMN secret_ref TEXT;
ALTER TABLE activation_codes ADD COLUMN minted_at TEXT;`,
  rewriteAfter: true,
};
