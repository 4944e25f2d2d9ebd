/** Migration 6: authenticator assurance evidence. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 6,
  name: 'authenticator assurance evidence',
  sql: `ALTER TABLE credentials ADD COLUMN aal TEXT CHECK (aal IN ('low', 'substantial', 'high'));
ALTER TABLE credentials ADD COLUMN attestation_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN model TEXT;
ALTER TABLE credentials ADD COLUMN certification TEXT;
ALTER TABLE credentials ADD COLUMN aal_reasons TEXT;
CREATE INDEX credentials_aaguid ON credentials(aaguid);`,
};
