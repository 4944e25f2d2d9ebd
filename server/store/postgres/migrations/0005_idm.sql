-- PostgreSQL migration 5: the twin of SQLite migration 16 (issue 18, the outbound sync to MitID
-- Erhverv). Never edit this file once shipped: add 0006_*.sql.
--
-- One subject name id per person, unique (it is the LocalIdentityProvider id at MitID Erhverv and
-- the persistent SAML NameID). Jobs keep their queue order (seq); a claim is a lease, taken with
-- FOR UPDATE SKIP LOCKED so that instances claiming together never take the same job.

CREATE TABLE idm_people (
  identity_id text PRIMARY KEY REFERENCES identities(id),
  subject_name_id text NOT NULL UNIQUE,
  employee_uuid text,
  created_at timestamptz NOT NULL
);

CREATE TABLE idm_jobs (
  seq bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  identity_id text NOT NULL REFERENCES identities(id),
  kind text NOT NULL,
  payload text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  lease_until timestamptz,
  claimed_by text,
  last_error text,
  note text,
  created_at timestamptz NOT NULL,
  finished_at timestamptz
);
CREATE INDEX idm_jobs_due ON idm_jobs (state, next_attempt_at);
CREATE INDEX idm_jobs_person ON idm_jobs (identity_id, seq);
