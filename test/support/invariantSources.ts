/**
 * Where the invariants (invariants.ts) read a gateway's whole state from, in one snapshot: the
 * store port's ReadTx (the audit trail, verified as an auditor does) and the few bulk listings the
 * port does not offer a request (every key, every history row, the outbox by kind, every session).
 * The SQLite source reads a database file read-only; the PostgreSQL source reads a database in one
 * REPEATABLE READ, READ ONLY transaction (one snapshot, consistent while instances serve).
 */
import type { CredentialEvent } from '../../server/domain/keys.js';
import type { Credential } from '../../server/domain/types.js';
import type { ReadTx } from '../../server/ports/store.js';
import { DatabaseUrl, inTransaction, PostgresPool, type TxSql } from '../../server/store/postgres/index.js';
import * as pgRecords from '../../server/store/postgres/records.js';
import { readTxOf } from '../../server/store/postgres/repositories.js';
import * as pgRows from '../../server/store/postgres/rows.js';
import { openSqliteFileReader } from '../../server/store/sqlite/index.js';
import { credential, credentialEvent, num, str } from '../../server/store/sqlite/rows.js';
import type { StoreRef } from './backend.js';

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
  close(): void | Promise<void>;
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

/** A PostgreSQL gateway database, in one REPEATABLE READ, READ ONLY transaction until close(). */
export async function postgresInvariantSource(urlText: string): Promise<InvariantSource> {
  const pool = new PostgresPool({ url: DatabaseUrl.parse(urlText), max: 1 });
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let opened: (sql: TxSql) => void = () => undefined;
  const got = new Promise<TxSql>((resolve) => (opened = resolve));
  const transaction = inTransaction(
    pool,
    async (sql) => {
      opened(sql);
      await done;
    },
    { isolation: 'repeatable read', readOnly: true, maxAttempts: 1 },
  );
  let sql: TxSql;
  try {
    sql = await Promise.race([got, transaction.then(() => Promise.reject(new Error('the read transaction ended early')))]);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const count = (rows: Record<string, unknown>[]) => pgRows.num(rows[0] ?? {}, 'n');
  return {
    tx: readTxOf(sql),
    credentials: async () => (await sql.rows('SELECT * FROM credentials')).map(pgRecords.credential),
    credentialEvents: async () => (await sql.rows('SELECT * FROM credential_events ORDER BY credential_id, id')).map(pgRecords.credentialEvent),
    outboxKinds: async () => new Map((await sql.rows('SELECT kind, COUNT(*)::int AS n FROM outbox GROUP BY kind')).map((r) => [pgRows.str(r, 'kind'), pgRows.num(r, 'n')])),
    activationCodeCount: async () => count(await sql.rows('SELECT COUNT(*)::int AS n FROM activation_codes')),
    sessionHashes: async () => (await sql.rows('SELECT id_hash FROM sessions')).map((r) => pgRows.str(r, 'id_hash')),
    close: async () => {
      finish();
      await transaction;
      await pool.end();
    },
  };
}

/** The invariant source of a gateway's store: a SQLite file (a path) or a StoreRef (backend.ts). */
export async function invariantSourceOf(target: string | StoreRef): Promise<InvariantSource> {
  if (typeof target === 'string') return sqliteInvariantSource(target);
  return target.engine === 'sqlite' ? sqliteInvariantSource(target.file) : postgresInvariantSource(target.urlText);
}
