/** Migration 14: the OIOSAML 3 identity provider (issue 15). */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 14,
  name: 'the OIOSAML 3 identity provider: service providers, pending AuthnRequests, seen message IDs, session participants, SAML signing keys',
  // Message IDs are durable (not ephemeral): a replayed AuthnRequest or LogoutRequest must stay
  // refused after a crash and across instances (saml-profiles 4.1.4.5). Service providers and
  // keys are never deleted: a replaced registration keeps its audit events.
  sql: `CREATE TABLE saml_service_providers (
  entity_id TEXT PRIMARY KEY,
  service_provider TEXT NOT NULL,
  settings TEXT NOT NULL,
  metadata_xml TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('config', 'admin')),
  updated_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE saml_requests (
  id TEXT PRIMARY KEY,
  entity_id TEXT NOT NULL REFERENCES saml_service_providers(entity_id),
  params TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  consumed_at TEXT
);
CREATE TABLE saml_message_ids (
  message_key TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL
);
CREATE TABLE saml_participants (
  session_hash TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  name_id TEXT NOT NULL,
  name_id_format TEXT NOT NULL,
  session_index TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (session_hash, entity_id)
);
CREATE INDEX saml_participants_by_index ON saml_participants(entity_id, session_index);
CREATE TABLE saml_keys (
  kid TEXT PRIMARY KEY,
  cka_id TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retired', 'destroyed')),
  certificate_pem TEXT NOT NULL,
  created_at TEXT NOT NULL,
  activated_at TEXT,
  retired_at TEXT,
  destroyed_at TEXT
);
CREATE UNIQUE INDEX saml_keys_one_active ON saml_keys(state) WHERE state = 'active';`,
};
