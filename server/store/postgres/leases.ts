/**
 * Leases: one holder at a time for a named duty across instances (the audit checkpoint writer:
 * checkpoints are signed by whichever instance holds the checkpoint lease). A lease is a row in
 * `leases`; taking one is a single atomic statement, so two instances asking together cannot both
 * win. Times come from the caller's Clock (ISO strings, like every time the store keeps); a holder
 * renews well before `until` (e.g. at a third of the term), so clock skew between instances
 * smaller than the rest of the term does no harm.
 *
 * Fencing: `fencing` grows each time the lease changes hands. A holder whose lease ran out while
 * it was paused must not write as if it still had it: in the transaction that does the leased
 * work, {@link holdLease} checks the lease is still this holder's and keeps it locked (FOR SHARE)
 * until the commit, so a takeover waits for that commit or the work fails.
 */
import type { LeaseRepo } from '../../ports/repositories.js';
import type { Sql, TxSql } from './pool.js';

export interface Lease {
  name: string;
  holder: string;
  /** Grows whenever the lease passes to another holder. */
  fencing: number;
  until: string;
}

function leaseOf(row: Record<string, unknown> | undefined): Lease | undefined {
  if (row === undefined) return undefined;
  const { name, holder, fencing, expires_at: until } = row;
  if (typeof name !== 'string' || typeof holder !== 'string' || typeof fencing !== 'number' || typeof until !== 'string') {
    throw new TypeError('store: leases row has unexpected types');
  }
  return { name, holder, fencing, until };
}

/**
 * Takes or renews `name` for `holder` until `until`: granted when the lease is free, ran out at
 * or before `at`, or is `holder`'s already. The lease as granted, or undefined when another
 * holder has it.
 */
export async function acquireLease(sql: Sql, name: string, holder: string, until: string, at: string): Promise<Lease | undefined> {
  if (!(Date.parse(until) > Date.parse(at))) throw new TypeError('acquireLease: until must be after at');
  const rows = await sql.rows(
    `INSERT INTO leases AS l (name, holder, fencing, acquired_at, expires_at)
     VALUES ($1, $2, 1, $3, $4)
     ON CONFLICT (name) DO UPDATE
       SET holder = EXCLUDED.holder,
           fencing = CASE WHEN l.holder = EXCLUDED.holder THEN l.fencing ELSE l.fencing + 1 END,
           acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE EXCLUDED.acquired_at END,
           expires_at = EXCLUDED.expires_at
       WHERE l.holder = EXCLUDED.holder OR l.expires_at <= EXCLUDED.acquired_at
     RETURNING name, holder, fencing, expires_at`,
    [name, holder, at, until],
  );
  return leaseOf(rows[0]);
}

/** Gives the lease up, if `holder` has it (it runs out at once; the fencing number stays). */
export async function releaseLease(sql: Sql, name: string, holder: string, at: string): Promise<void> {
  await sql.count('UPDATE leases SET expires_at = LEAST(expires_at, $3::timestamptz) WHERE name = $1 AND holder = $2', [name, holder, at]);
}

/**
 * Inside the transaction doing the leased work: true when `lease` (same holder and fencing
 * number) is still held at `at`, and then it cannot change hands before this transaction ends.
 */
export async function holdLease(sql: TxSql, lease: Lease, at: string): Promise<boolean> {
  const rows = await sql.rows(
    'SELECT 1 AS held FROM leases WHERE name = $1 AND holder = $2 AND fencing = $3 AND expires_at > $4 FOR SHARE',
    [lease.name, lease.holder, lease.fencing, at],
  );
  return rows.length === 1;
}

/**
 * The port's leases (LeaseRepo) over the functions above. Giving a lease up makes it run out at
 * the moment it was last taken (so any later `at` finds it free) and keeps its fencing number.
 */
export class PgLeases implements LeaseRepo {
  constructor(private readonly sql: Sql) {}

  async acquire(name: string, holder: string, until: string, at: string): Promise<boolean> {
    return (await acquireLease(this.sql, name, holder, until, at)) !== undefined;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.sql.count('UPDATE leases SET expires_at = LEAST(expires_at, acquired_at) WHERE name = $1 AND holder = $2', [name, holder]);
  }
}
