/** Migration 5: access tokens remember their code. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 5,
  name: 'access tokens remember their code',
  sql: `ALTER TABLE oidc_access_tokens ADD COLUMN code_hash TEXT;
CREATE INDEX oidc_access_tokens_code ON oidc_access_tokens(code_hash);`,
};
