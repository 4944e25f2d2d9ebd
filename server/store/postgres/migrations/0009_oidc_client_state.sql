-- PostgreSQL migration 9: the twin of SQLite migration 19 (issue 16, the clients page): an
-- org-admin may disable an OpenID Connect client. Never edit this file once shipped: add 0010_*.sql.
--
-- Null while the client may be used; the time an org-admin disabled it otherwise.
ALTER TABLE oidc_clients ADD COLUMN disabled_at timestamptz;
