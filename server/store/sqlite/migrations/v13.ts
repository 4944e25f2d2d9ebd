/** Migration 13: the store port: WebAuthn challenges leave the durable file (the ephemeral store holds them), named leases. */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 13,
  name: 'the store port: WebAuthn challenges leave the durable file (the ephemeral store holds them), named leases',
  // A challenge is single use and lives two minutes: losing it costs the person one retry, so it
  // needs no fsync (issue 14: a sign-in costs at most one durable commit). Leases name the one
  // process (or instance) that may do a singleton's work, e.g. sign the next audit checkpoint.
  sql: `DROP TABLE challenges;
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until TEXT NOT NULL
);`,
};
