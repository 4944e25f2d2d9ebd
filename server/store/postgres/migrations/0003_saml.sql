-- PostgreSQL migration 3: the twin of SQLite migration 14 (the OIOSAML 3 identity provider, issue 15).
-- Never edit this file once shipped: add 0004_*.sql.
--
-- Message IDs are durable (a replayed AuthnRequest stays refused after a crash and on every
-- instance: saml-profiles 4.1.4.5). Service providers and SAML keys are never deleted.

CREATE TABLE saml_service_providers (
  entity_id text PRIMARY KEY,
  service_provider json NOT NULL,
  settings json NOT NULL,
  metadata_xml text NOT NULL,
  source text NOT NULL CHECK (source IN ('config', 'admin')),
  updated_by text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TRIGGER saml_service_providers_no_delete BEFORE DELETE ON saml_service_providers
  FOR EACH ROW EXECUTE FUNCTION gateway_refuse_change('saml_service_providers rows are never deleted');

CREATE TABLE saml_requests (
  id text PRIMARY KEY,
  entity_id text NOT NULL REFERENCES saml_service_providers(entity_id),
  params json NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz
);

CREATE TABLE saml_message_ids (
  message_key text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);

CREATE TABLE saml_participants (
  session_hash text NOT NULL,
  entity_id text NOT NULL,
  name_id text NOT NULL,
  name_id_format text NOT NULL,
  session_index text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (session_hash, entity_id)
);
CREATE INDEX saml_participants_by_index ON saml_participants(entity_id, session_index);

CREATE TABLE saml_keys (
  kid text PRIMARY KEY,
  cka_id text NOT NULL UNIQUE,
  state text NOT NULL CHECK (state IN ('pending', 'active', 'retired', 'destroyed')),
  certificate_pem text NOT NULL,
  created_at timestamptz NOT NULL,
  activated_at timestamptz,
  retired_at timestamptz,
  destroyed_at timestamptz
);
CREATE UNIQUE INDEX saml_keys_one_active ON saml_keys(state) WHERE state = 'active';
CREATE TRIGGER saml_keys_no_delete BEFORE DELETE ON saml_keys
  FOR EACH ROW EXECUTE FUNCTION gateway_refuse_change('saml_keys rows are never deleted');
