-- PostgreSQL migration 2: the twin of SQLite migration 13 (the store port).
-- Never edit this file once shipped: add 0003_*.sql.
--
-- SQLite 13 moves the WebAuthn challenges out of the durable file (into its ephemeral file,
-- written with synchronous=OFF) and adds named leases. On PostgreSQL both were in place from
-- migration 1: `challenges` is UNLOGGED (no WAL, so no fsync on a sign-in's options request; not
-- replicated; emptied after a crash) and `leases` exists, with a fencing number SQLite's lacks.
-- What this migration adds is the statement of which state is which, in the catalogue where an
-- operator looks (psql \d+, pg_description), so that nobody makes an ephemeral table LOGGED or
-- expects it in a dump taken with --no-unlogged-table-data.

COMMENT ON TABLE challenges IS
  'Ephemeral (UNLOGGED): WebAuthn challenges, single use across instances; lost in a crash or failover, which costs the person one retry of the ceremony.';
COMMENT ON TABLE rate_limit_windows IS
  'Ephemeral (UNLOGGED): fixed-window rate-limit counters shared by every instance; lost in a crash or failover, the limits start afresh.';
COMMENT ON TABLE leases IS
  'Durable: named leases (one holder at a time across instances, e.g. the audit checkpoint writer); fencing grows whenever the holder changes.';
