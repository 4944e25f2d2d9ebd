/**
 * Where the invariants (invariants.ts) read a gateway's whole state from, in one snapshot: the
 * store port's ReadTx (the audit trail, verified as an auditor does) and the few bulk listings the
 * port does not offer a request (every key, every history row, the outbox by kind, every session).
 * The SQLite source reads a database file read-only; a PostgreSQL source implements the same
 * interface with its own queries.
 */
import type { CredentialEvent } from '../../server/domain/keys.js';
import type { Credential } from '../../server/domain/types.js';
import type { ReadTx } from '../../server/ports/store.js';
import { openSqliteFileReader } from '../../server/store/sqlite/index.js';
import { credential, credentialEvent, num, str } from '../../server/store/sqlite/rows.js';

export interface InvariantSource {
  tx: ReadTx;
  credentials(): Promise<Credential[]>;
  /** Every state-history row, by key and then in order. */
  credentialEvents(): Promise<CredentialEvent[]>;
  /** How many mails of each kind the outbox holds (sent or not). */
  outboxKinds(): Promise<Map<string, number>>;
  activationCodeCount(): Promise<number>;
  /** The stored hash of every session id. */
  sessionHashes(): Promise<string[]>;
  close(): void;
}

/** A SQLite gateway database file, read-only, in one read transaction. */
export function sqliteInvariantSource(file: string): InvariantSource {
  const reader = openSqliteFileReader(file);
  return {
    tx: reader.tx,
    credentials: async () => reader.query('SELECT * FROM credentials').map(credential),
    credentialEvents: async () => reader.query('SELECT * FROM credential_events ORDER BY credential_id, id').map(credentialEvent),
    outboxKinds: async () => new Map(reader.query('SELECT kind, COUNT(*) AS n FROM outbox GROUP BY kind').map((r) => [str(r, 'kind'), num(r, 'n')])),
    activationCodeCount: async () => num(reader.query('SELECT COUNT(*) AS n FROM activation_codes')[0], 'n'),
    sessionHashes: async () => reader.query('SELECT id_hash FROM sessions').map((r) => str(r, 'id_hash')),
    close: () => reader.close(),
  };
}
