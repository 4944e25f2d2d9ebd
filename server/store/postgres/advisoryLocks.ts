/**
 * Advisory locks: named, transaction-scoped mutexes that live in PostgreSQL, so they hold across
 * every process and instance on one database. ONE table of the locks the gateway takes (an auditor
 * reads why each exists); each is PostgreSQL's two-key form (classid, objid), so `pg_locks`
 * shows them as (GATEWAY_LOCK_CLASS, objid).
 *
 * Transaction-scoped only (pg_advisory_xact_lock): released by COMMIT or ROLLBACK, never left
 * behind by a crashed instance or a connection handed back to the pool. Take a lock as late as
 * possible in a write transaction: everyone who needs it waits until the holder commits. (The
 * audit chain's head is a row lock since issue 17: audit.ts and migration 0007.)
 */
import type { TxSql } from './pool.js';

/** The gateway's class of advisory locks ("GWAY"); other applications on the database use others. */
export const GATEWAY_LOCK_CLASS = 0x47574159;

export const ADVISORY_LOCKS = {
  /** One instance migrates the schema at a time; the others wait, then find nothing to do. */
  migrations: { objectId: 2, why: 'serialises schema migrations of instances starting together' },
} as const;

export type AdvisoryLockName = keyof typeof ADVISORY_LOCKS;

/**
 * Locks on one thing among many (a key such as a person's id), each class its own first key; the
 * second is hashtext(key). Two keys with the same hash share a lock: harmless, they only wait for
 * each other. The classes are "GWA" + a letter, apart from GATEWAY_LOCK_CLASS's named locks.
 */
export const KEYED_ADVISORY_LOCKS = {
  /**
   * NSIS 3.2.3 (Low) 2: a staff member's suspensions and revocations are counted against the
   * hourly cap and taken in one transaction; the count is serialised per actor, so parallel
   * actions on several instances cannot all read "one left".
   */
  staffActor: { classId: 0x47574141, why: "serialises the count of one staff member's actions against the hourly cap" },
  /**
   * NSIS 3.2.4: a holder adds a key themselves only below a cap of usable keys; the count and the
   * insert are serialised per holder, so parallel additions cannot all read "one left".
   */
  holderKeys: { classId: 0x47574142, why: "serialises the count of one holder's usable keys against the self-service cap" },
  /**
   * Issue 18, SCIM Groups: a group write decides from all the organisation's groups whether a
   * person still has a group asking for a role (else the role is withdrawn at once); the
   * organisation's group writes are serialised, so two cannot each miss the other's change.
   */
  scimGroups: { classId: 0x47574143, why: "serialises one organisation's SCIM group writes, which withdraw roles no group asks for any more" },
} as const;

export type KeyedAdvisoryLockName = keyof typeof KEYED_ADVISORY_LOCKS;

/** Waits for the lock (bounded by the session's lock_timeout: StoreBusy past it) and holds it until the transaction ends. */
export async function lockForTransaction(sql: TxSql, name: AdvisoryLockName): Promise<void> {
  await sql.rows('SELECT pg_advisory_xact_lock($1::int, $2::int)', [GATEWAY_LOCK_CLASS, ADVISORY_LOCKS[name].objectId]);
}

/** Takes the lock if it is free right now; false if another transaction holds it. */
export async function tryLockForTransaction(sql: TxSql, name: AdvisoryLockName): Promise<boolean> {
  const rows = await sql.rows('SELECT pg_try_advisory_xact_lock($1::int, $2::int) AS locked', [GATEWAY_LOCK_CLASS, ADVISORY_LOCKS[name].objectId]);
  return rows[0]?.['locked'] === true;
}

/** Waits for the lock on `key` of the class `name` and holds it until the transaction ends. */
export async function lockKeyForTransaction(sql: TxSql, name: KeyedAdvisoryLockName, key: string): Promise<void> {
  await sql.rows('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [KEYED_ADVISORY_LOCKS[name].classId, key]);
}
