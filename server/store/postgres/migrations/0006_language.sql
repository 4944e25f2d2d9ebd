-- PostgreSQL migration 6: the twin of SQLite migration 17 (issue 16): a language per person.
-- Never edit this file once shipped: add 0007_*.sql.
--
-- NULL: the person has not chosen; the organisation's default (GATEWAY_DEFAULT_LANGUAGE) applies.

ALTER TABLE identities ADD COLUMN language text CHECK (language IS NULL OR language IN ('da', 'en'));
