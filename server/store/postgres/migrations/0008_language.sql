-- PostgreSQL migration 8: the twin of SQLite migration 18 (issue 16): a language per person.
-- Never edit this file once shipped: add 0009_*.sql.
--
-- NULL: the person has not chosen; the organisation's default (GATEWAY_DEFAULT_LANGUAGE) applies.

ALTER TABLE identities ADD COLUMN language text CHECK (language IS NULL OR language IN ('da', 'en'));
