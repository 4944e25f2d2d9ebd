/**
 * PostgreSQL going away under a running gateway (its own cluster, stopped and started by the
 * test): every database call fails with the typed StoreUnavailable (the HTTP boundary answers 503),
 * nothing half-written survives, and the same pool serves again by itself once the server is
 * back. A crash empties the ephemeral (UNLOGGED) tables and keeps every committed durable row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StoreUnavailable } from '../../server/store/postgres/errors.js';
import { checkHealth } from '../../server/store/postgres/health.js';
import { loadMigrations } from '../../server/store/postgres/migrate.js';
import type { PostgresPool } from '../../server/store/postgres/pool.js';
import { PostgresStore } from '../../server/store/postgres/PostgresStore.js';
import { inTransaction } from '../../server/store/postgres/transaction.js';
import { freshDatabase, privateCluster, type TestDatabase } from '../support/postgres.js';
import { insertChallenge } from './fixtures.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const SCHEMA = loadMigrations().length;

function isUnavailable(err: unknown): boolean {
  return err instanceof StoreUnavailable && err.retryAfterSeconds > 0;
}

describe('PostgreSQL stopped and started under a running pool', () => {
  let cluster: ReturnType<typeof privateCluster>;
  let db: TestDatabase;
  let pool: PostgresPool;
  const logged: string[] = [];
  before(async () => {
    cluster = privateCluster();
    db = await freshDatabase({ cluster });
    pool = db.pool({ max: 4, log: { warn: (obj, msg) => logged.push(`${JSON.stringify(obj)} ${msg}`) } });
    await pool.count("INSERT INTO leases (name, holder, fencing, acquired_at, expires_at) VALUES ('before', 'x', 1, now(), now())");
  });
  after(async () => {
    cluster.start();
    await db.drop();
  });

  test('NSIS 3.2.3 (Substantial) 6: while PostgreSQL is down every call is StoreUnavailable (never a driver error), the open transaction is lost whole; started again, the same pool serves at once', async () => {
    // Four connections open, one of them inside a transaction that has written a row.
    const clients = await Promise.all(Array.from({ length: 4 }, () => pool.acquire()));
    for (const c of clients) c.release();
    const wrote = deferred();
    const proceed = deferred();
    const open = inTransaction(
      pool,
      async (sql) => {
        await sql.count("INSERT INTO leases (name, holder, fencing, acquired_at, expires_at) VALUES ('half', 'x', 1, now(), now())");
        wrote.resolve();
        await proceed.promise;
        await sql.count("INSERT INTO leases (name, holder, fencing, acquired_at, expires_at) VALUES ('half-2', 'x', 1, now(), now())");
      },
      { maxAttempts: 1 },
    ).catch((err: unknown) => err);
    await wrote.promise;

    cluster.stop();
    proceed.resolve();
    assert.ok(isUnavailable(await open), 'the open transaction fails as StoreUnavailable');
    await assert.rejects(inTransaction(pool, (sql) => sql.rows('SELECT 1')), isUnavailable);
    await assert.rejects(pool.rows('SELECT 1'), isUnavailable);
    await assert.rejects(checkHealth(pool, SCHEMA), isUnavailable);

    cluster.start();
    // No new pool, no retry by the caller: the first call after the restart succeeds.
    const names = await inTransaction(pool, async (sql) => (await sql.rows('SELECT name FROM leases ORDER BY name')).map((r) => r['name']), { readOnly: true });
    assert.deepEqual(names, ['before'], 'committed row kept, the half-written transaction gone whole');
    assert.equal((await checkHealth(pool, SCHEMA)).schemaVersion, SCHEMA);
    for (const line of logged) assert.ok(!line.includes(db.url.revealPassword() ?? '\0'), 'no password in the log');
  });

  test('a crash (immediate shutdown) empties the ephemeral tables and keeps every committed durable row; the pool recovers by itself', async () => {
    await inTransaction(pool, async (sql) => {
      await insertChallenge(sql, 'c-1', '2030-01-01T00:00:00.000Z');
      await sql.count("INSERT INTO rate_limit_windows (key, hits, reset_at) VALUES ('ip:1', 3, now())");
      await sql.count("INSERT INTO leases (name, holder, fencing, acquired_at, expires_at) VALUES ('durable', 'x', 1, now(), now())");
    });
    cluster.stop({ immediate: true });
    await assert.rejects(pool.rows('SELECT 1'), isUnavailable);
    cluster.start();
    const counts = await inTransaction(
      pool,
      async (sql) => {
        const [c] = await sql.rows('SELECT (SELECT count(*) FROM challenges) AS challenges, (SELECT count(*) FROM rate_limit_windows) AS windows');
        const durable = await sql.rows("SELECT name FROM leases WHERE name = 'durable'");
        return { challenges: c?.['challenges'], windows: c?.['windows'], durable: durable.length };
      },
      { readOnly: true },
    );
    assert.deepEqual(counts, { challenges: 0, windows: 0, durable: 1 });
  });

  test('NSIS 3.2.3 (Substantial) 6, through the store port: while PostgreSQL is down write, read, the ephemeral store and health are StoreUnavailable, a write under way is lost whole and runs no after-commit callback; started again, the same store serves', async () => {
    const store = await PostgresStore.open({ url: db.url, poolSize: 4 });
    try {
      const org = { id: 'org-outage', cvr: '12345674', name: 'Outage ApS', createdAt: '2030-01-01T00:00:00.000Z' };
      await store.write((tx) => tx.organisations.insert(org));
      let hookRan = false;
      const wrote = deferred();
      const proceed = deferred();
      const underWay = store
        .write(async (tx) => {
          await tx.identities.insert({ id: 'half', organisationId: org.id, name: 'Half', email: 'half@example.test', ial: 'low', proofingMethod: 'x', proofedBy: null, createdAt: org.createdAt });
          tx.afterCommit(() => {
            hookRan = true;
          });
          wrote.resolve();
          await proceed.promise;
          await tx.identities.grantRole('half', 'employee', null, org.createdAt);
        })
        .catch((err: unknown) => err);
      await wrote.promise;
      cluster.stop();
      proceed.resolve();
      assert.ok(isUnavailable(await underWay), 'the write under way fails as StoreUnavailable');
      assert.equal(hookRan, false);
      await assert.rejects(store.write((tx) => tx.organisations.get(org.id)), isUnavailable);
      await assert.rejects(store.read((tx) => tx.organisations.get(org.id)), isUnavailable);
      await assert.rejects(store.ephemeral.challenges.consume('none', org.createdAt), isUnavailable);
      await assert.rejects(store.ephemeral.limits.hit('ip:1', 60_000, 0), isUnavailable);
      await assert.rejects(store.health(), isUnavailable);
      cluster.start();
      await store.health();
      assert.deepEqual(await store.read((tx) => tx.organisations.get(org.id)), org, 'committed: kept');
      assert.equal(await store.read((tx) => tx.identities.get('half')), undefined, 'under way: gone whole');
    } finally {
      await store.close();
    }
  });
});
