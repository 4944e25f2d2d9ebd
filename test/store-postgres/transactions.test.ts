/**
 * The adapter's transactions, typed errors, row types and leases, on a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StoreBusy, StoreError } from '../../server/store/postgres/errors.js';
import { acquireLease, holdLease, releaseLease } from '../../server/store/postgres/leases.js';
import type { PostgresPool } from '../../server/store/postgres/pool.js';
import { inTransaction } from '../../server/store/postgres/transaction.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Settles with the SQLSTATE a StoreError was mapped from (its cause keeps only that). */
function causeCode(err: unknown): string | undefined {
  const cause = err instanceof Error ? err.cause : undefined;
  return cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
}

describe('transactions', () => {
  let db: TestDatabase;
  let pool: PostgresPool;
  before(async () => {
    db = await freshDatabase();
    pool = db.pool({ max: 6 });
    await pool.rows("INSERT INTO rate_limit_windows (key, hits, reset_at) VALUES ('a', 0, now()), ('b', 0, now())");
  });
  after(async () => {
    await db.drop();
  });

  test('rows carry the domain types: times as Date.toISOString() text, bigint as a number, bytea as bytes, json as the text written, jsonb as values', async () => {
    const [row] = await pool.rows(
      `SELECT $1::timestamptz AS at, '2026-01-05 09:00:00.123456+01'::timestamptz AS micro, 4294967295::bigint AS big, count(*) AS n,
              '\\x0102ff'::bytea AS bytes, '{"b":1, "a":[2]}'::json AS exact, '{"b":1, "a":[2]}'::jsonb AS parsed`,
      ['2026-01-05T08:00:00.000Z'],
    );
    assert.equal(row?.['at'], '2026-01-05T08:00:00.000Z');
    assert.equal(row?.['micro'], '2026-01-05T08:00:00.123Z');
    assert.equal(row?.['big'], 4294967295);
    assert.equal(row?.['n'], 1);
    assert.deepEqual(row?.['bytes'], Buffer.from([1, 2, 255]));
    assert.equal(row?.['exact'], '{"b":1, "a":[2]}', 'json keeps its text, unparsed');
    assert.deepEqual(row?.['parsed'], { a: [2], b: 1 });
    await assert.rejects(pool.rows("SELECT (2^60)::bigint AS huge"), RangeError, 'a bigint past 2^53 is refused, never rounded');
  });

  test('a serialization failure (write skew under SERIALIZABLE) is retried from the start, and both transactions commit', async () => {
    const bothRead = { count: 0, go: deferred() };
    let runs = 0;
    const skew = (mine: string) =>
      inTransaction(
        pool,
        async (sql) => {
          runs++;
          const [sum] = await sql.rows("SELECT sum(hits) AS total FROM rate_limit_windows WHERE key IN ('a', 'b')");
          if (++bothRead.count === 2) bothRead.go.resolve();
          await bothRead.go.promise;
          await sql.count('UPDATE rate_limit_windows SET hits = $2 WHERE key = $1', [mine, Number(sum?.['total'] ?? 0) + 1]);
        },
        { isolation: 'serializable' },
      );
    await Promise.all([skew('a'), skew('b')]);
    assert.equal(runs, 3, 'one of the two ran again');
    const rows = await pool.rows("SELECT key, hits FROM rate_limit_windows WHERE key IN ('a', 'b') ORDER BY key");
    // Serial order: the first wrote 1, the retried one saw it and wrote 2.
    assert.deepEqual(rows.map((r) => r['hits']).sort(), [1, 2]);
  });

  test('a deadlock is broken by PostgreSQL and the aborted transaction is retried: both commit', async () => {
    const bothLocked = { count: 0, go: deferred() };
    let runs = 0;
    const cross = (first: string, second: string) =>
      inTransaction(pool, async (sql) => {
        runs++;
        await sql.count('UPDATE rate_limit_windows SET hits = hits + 1 WHERE key = $1', [first]);
        if (++bothLocked.count === 2) bothLocked.go.resolve();
        await bothLocked.go.promise;
        await sql.count('UPDATE rate_limit_windows SET hits = hits + 1 WHERE key = $1', [second]);
      });
    const before = await pool.rows("SELECT sum(hits) AS total FROM rate_limit_windows WHERE key IN ('a', 'b')");
    await Promise.all([cross('a', 'b'), cross('b', 'a')]);
    assert.equal(runs, 3);
    const afterRows = await pool.rows("SELECT sum(hits) AS total FROM rate_limit_windows WHERE key IN ('a', 'b')");
    assert.equal(Number(afterRows[0]?.['total']) - Number(before[0]?.['total']), 4, 'each transaction counted twice, none lost');
  });

  test('conflicts that outlast the retries are StoreBusy, nothing changed', async () => {
    const bothRead = { count: 0, go: deferred() };
    const skew = (mine: string) =>
      inTransaction(
        pool,
        async (sql) => {
          await sql.rows("SELECT sum(hits) FROM rate_limit_windows WHERE key IN ('a', 'b')");
          if (++bothRead.count === 2) bothRead.go.resolve();
          await bothRead.go.promise;
          await sql.count("UPDATE rate_limit_windows SET hits = 100 WHERE key = $1", [mine]);
        },
        { isolation: 'serializable', maxAttempts: 1 },
      );
    const results = await Promise.allSettled([skew('a'), skew('b')]);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(failed.length, 1);
    const reason = failed[0]?.status === 'rejected' ? failed[0].reason : undefined;
    assert.ok(reason instanceof StoreBusy);
    assert.equal(reason.retryAfterSeconds, 1);
  });

  test('a row lock held past lock_timeout is StoreBusy (55P03) at once, not a hang and not a driver error', async () => {
    const impatient = db.pool({ max: 1, lockTimeoutMs: 150 });
    const outcome = deferred<unknown>();
    await inTransaction(pool, async (sql) => {
      await sql.count("UPDATE rate_limit_windows SET hits = hits WHERE key = 'a'");
      outcome.resolve(await inTransaction(impatient, (other) => other.count("UPDATE rate_limit_windows SET hits = 0 WHERE key = 'a'")).catch((err: unknown) => err));
    });
    const err = await outcome.promise;
    assert.ok(err instanceof StoreBusy, String(err));
    assert.equal(causeCode(err), '55P03');
  });

  test('too many connections (the database limit reached) is StoreBusy (53300)', async () => {
    // A database of its own, so that no connection of the other tests counts against the limit.
    const limited = await freshDatabase();
    try {
      await limited.admin((c) => c.query(`ALTER DATABASE "${limited.name}" CONNECTION LIMIT 1`));
      const holder = limited.pool({ max: 1 });
      const second = limited.pool({ max: 1 });
      await inTransaction(holder, async () => {
        const err = await inTransaction(second, (sql) => sql.rows('SELECT 1')).catch((e: unknown) => e);
        assert.ok(err instanceof StoreBusy, String(err));
        assert.equal(causeCode(err), '53300');
      });
    } finally {
      await limited.drop();
    }
  });

  test('a transaction whose statement failed never passes for committed, even if fn caught the error', async () => {
    await assert.rejects(
      inTransaction(pool, async (sql) => {
        await sql.count("UPDATE rate_limit_windows SET hits = 7 WHERE key = 'a'");
        await sql.count('INSERT INTO rate_limit_windows (key, hits, reset_at) VALUES ($1, -1, now())', ['c']).catch(() => 0);
        return 'done';
      }),
      (err: unknown) => err instanceof StoreError && /rolled back/.test(err.message),
    );
    const [a] = await pool.rows("SELECT hits FROM rate_limit_windows WHERE key = 'a'");
    assert.notEqual(a?.['hits'], 7);
  });

  test('a driver error never leaves the adapter: a violated CHECK is a StoreError naming only its SQLSTATE and constraint, no row values', async () => {
    const err = await inTransaction(pool, (sql) => sql.count('INSERT INTO rate_limit_windows (key, hits, reset_at) VALUES ($1, -5, now())', ['secret-key-value'])).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreError);
    assert.equal(causeCode(err), '23514');
    const text = `${String(err)} ${String(err.cause)} ${JSON.stringify(err)}`;
    assert.ok(!text.includes('secret-key-value'), text);
    assert.match(String(err.cause), /rate_limit_windows_hits_check/);
  });
});

describe('leases', () => {
  let db: TestDatabase;
  let pool: PostgresPool;
  const T = (s: number) => new Date(Date.parse('2026-01-05T08:00:00.000Z') + s * 1000).toISOString();
  before(async () => {
    db = await freshDatabase();
    pool = db.pool({ max: 6 });
  });
  after(async () => {
    await db.drop();
  });

  test('the checkpoint lease: of five instances asking at once exactly one gets it; the holder renews; the others get it only once it ran out, with a higher fencing number', async () => {
    const asks = await Promise.all(Array.from({ length: 5 }, (_, i) => acquireLease(pool, 'audit-checkpoint', `instance-${i}`, T(30), T(0))));
    const winners = asks.filter((l) => l !== undefined);
    assert.equal(winners.length, 1);
    const holder = winners[0];
    assert.ok(holder);
    assert.equal(holder.fencing, 1);
    const other = holder.holder === 'instance-0' ? 'instance-1' : 'instance-0';
    assert.deepEqual(await acquireLease(pool, 'audit-checkpoint', holder.holder, T(40), T(10)), { ...holder, until: T(40) }, 'renewed, same fencing');
    assert.equal(await acquireLease(pool, 'audit-checkpoint', other, T(60), T(39)), undefined, 'not before it ran out');
    const taken = await acquireLease(pool, 'audit-checkpoint', other, T(70), T(40));
    assert.deepEqual(taken, { name: 'audit-checkpoint', holder: other, fencing: 2, until: T(70) });
    assert.equal(await inTransaction(pool, (sql) => holdLease(sql, holder, T(41))), false, 'the old holder can no longer do leased work');
    assert.equal(await inTransaction(pool, (sql) => holdLease(sql, taken, T(41))), true);
    await releaseLease(pool, 'audit-checkpoint', other, T(42));
    assert.equal((await acquireLease(pool, 'audit-checkpoint', holder.holder, T(90), T(43)))?.fencing, 3, 'released: free at once');
  });

  test('leased work holds the lease until its commit: a takeover waits for it (and gives up with StoreBusy past lock_timeout)', async () => {
    const lease = await acquireLease(pool, 'outbox-sweeper', 'a', T(10), T(0));
    assert.ok(lease);
    const impatient = db.pool({ max: 1, lockTimeoutMs: 150 });
    const takeover = deferred<unknown>();
    await inTransaction(pool, async (sql) => {
      assert.equal(await holdLease(sql, lease, T(9)), true);
      // The lease runs out at T(10); a takeover at T(11) still has to wait for this commit.
      takeover.resolve(await acquireLease(impatient, 'outbox-sweeper', 'b', T(40), T(11)).catch((e: unknown) => e));
    });
    assert.ok((await takeover.promise) instanceof StoreBusy);
    assert.equal((await acquireLease(pool, 'outbox-sweeper', 'b', T(40), T(11)))?.holder, 'b');
  });
});
