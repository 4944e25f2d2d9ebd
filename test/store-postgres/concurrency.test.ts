/**
 * What several instances on one PostgreSQL rely on: single use and compare-and-set with
 * UPDATE ... RETURNING under 100 connections at once, the outbox claimed with FOR UPDATE SKIP
 * LOCKED, and the audit chain appended under its advisory lock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyChain } from '../../server/audit/hashChain.js';
import { StoreBusy } from '../../server/store/postgres/errors.js';
import type { PostgresPool } from '../../server/store/postgres/pool.js';
import { inTransaction } from '../../server/store/postgres/transaction.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { appendAudit, auditEntries, claimOutbox, consumeChallenge, insertChallenge, insertCredential, insertIdentity, insertOrganisation, insertOutbox } from './fixtures.js';

const AT = '2026-01-05T08:00:00.000Z';
const LATER = '2026-01-05T08:05:00.000Z';
const CLIENTS = 100;

/** A promise to resolve from outside: lets a test hold one transaction open while another runs. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Opens `n` connections and returns them to the pool, so that n callers then run at once. */
async function warm(pool: PostgresPool, n: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: n }, () => pool.acquire()));
  for (const c of clients) c.release();
  assert.equal(pool.stats().total, n);
}

describe('single use and compare-and-set under 100 connections', () => {
  let db: TestDatabase;
  let pool: PostgresPool;
  before(async () => {
    db = await freshDatabase();
    pool = db.pool({ max: CLIENTS });
    await warm(pool, CLIENTS);
  });
  after(async () => {
    await db.drop();
  });

  test('NSIS 3.3.1 (Low) 3: 100 clients consume one challenge at once, each on its own connection: exactly one gets it (five rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const challenge = `challenge-${round}`;
      await inTransaction(pool, (sql) => insertChallenge(sql, challenge, LATER));
      const results = await Promise.all(Array.from({ length: CLIENTS }, () => inTransaction(pool, (sql) => consumeChallenge(sql, challenge, AT))));
      assert.equal(results.filter(Boolean).length, 1, `round ${round}: one winner`);
      const [row] = await pool.rows('SELECT consumed_at FROM challenges WHERE challenge = $1', [challenge]);
      assert.equal(row?.['consumed_at'], AT);
    }
  });

  test('NSIS 3.3.1 (Low) 3: the signature counter compare-and-set: 100 clients raising it from the same value, exactly one succeeds and the counter moved once', async () => {
    await inTransaction(pool, async (sql) => {
      await insertOrganisation(sql, 'org');
      await insertIdentity(sql, 'p1', 'org', 'p1@example.dk');
      await insertCredential(sql, 'k1', 'p1', { signCount: 41 });
    });
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, () =>
        inTransaction(pool, (sql) => sql.count('UPDATE credentials SET sign_count = $2, last_used_at = $4 WHERE id = $1 AND sign_count = $3', ['k1', 42, 41, AT])),
      ),
    );
    assert.equal(results.filter((n) => n === 1).length, 1);
    assert.deepEqual(await pool.rows('SELECT sign_count FROM credentials WHERE id = $1', ['k1']), [{ sign_count: 42 }]);
  });
});

describe('the outbox claimed with FOR UPDATE SKIP LOCKED', () => {
  let db: TestDatabase;
  let pool: PostgresPool;
  before(async () => {
    db = await freshDatabase();
    pool = db.pool({ max: 8 });
  });
  after(async () => {
    await db.drop();
  });

  test('a claim in an open transaction does not block another claimer, which gets the next messages, none twice', async () => {
    await inTransaction(pool, async (sql) => {
      for (let i = 0; i < 10; i++) await insertOutbox(sql, `m${String(i).padStart(2, '0')}`, new Date(Date.parse(AT) - (10 - i) * 1000).toISOString());
    });
    const second = deferred<string[]>();
    const first = await inTransaction(pool, async (sql) => {
      const mine = await claimOutbox(sql, AT, LATER, 5);
      // Still inside the first transaction, its rows locked: a second claimer skips them.
      second.resolve(await inTransaction(pool, (other) => claimOutbox(other, AT, LATER, 5)));
      return mine;
    });
    const theirs = await second.promise;
    assert.deepEqual(first, ['m00', 'm01', 'm02', 'm03', 'm04']);
    assert.deepEqual(theirs, ['m05', 'm06', 'm07', 'm08', 'm09']);
    assert.deepEqual(await inTransaction(pool, (sql) => claimOutbox(sql, AT, LATER, 5)), [], 'leased messages are not due again before the lease ends');
  });

  test('four claimers draining 300 messages at once: each message is handed to exactly one claimer', async () => {
    await inTransaction(pool, async (sql) => {
      for (let i = 0; i < 300; i++) await insertOutbox(sql, `s${String(i).padStart(3, '0')}`, AT);
    });
    const claimed = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const mine: string[] = [];
        for (;;) {
          const batch = await inTransaction(pool, (sql) => claimOutbox(sql, AT, LATER, 7));
          if (batch.length === 0) return mine;
          mine.push(...batch);
        }
      }),
    );
    const all = claimed.flat().filter((id) => id.startsWith('s'));
    assert.equal(all.length, 300);
    assert.equal(new Set(all).size, 300, 'no message claimed twice');
  });
});

describe('the audit chain appended under its advisory lock', () => {
  let db: TestDatabase;
  let pool: PostgresPool;
  before(async () => {
    db = await freshDatabase();
    pool = db.pool({ max: 20 });
  });
  after(async () => {
    await db.drop();
  });

  test('NSIS 6 (Low) 7: 20 writers appending 10 entries each at once make ONE chain, 1 to 200 without gaps, that verifies', async () => {
    await Promise.all(
      Array.from({ length: 20 }, async (_, w) => {
        for (let i = 0; i < 10; i++) await inTransaction(pool, (sql) => appendAudit(sql, 'test.appended', AT, { writer: w, i }));
      }),
    );
    const entries = await inTransaction(pool, auditEntries, { readOnly: true, isolation: 'repeatable read' });
    assert.deepEqual(
      entries.map((e) => e.seq),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    const verdict = verifyChain(entries);
    assert.deepEqual(verdict, { ok: true, entries: 200, headHash: entries.at(-1)?.hash });
  });

  test("NSIS 6 (Low) 7: while one transaction's append is uncommitted no other can link to the head; its commit releases the head row", async () => {
    const during = deferred<string>();
    await inTransaction(pool, async (sql) => {
      await appendAudit(sql, 'test.holding', AT, {});
      during.resolve(
        await inTransaction(pool, (other) => other.rows('SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE NOWAIT')).then(
          () => 'taken',
          (err: unknown) => (err instanceof StoreBusy ? 'busy' : `unexpected: ${String(err)}`),
        ),
      );
    });
    assert.equal(await during.promise, 'busy');
    assert.equal((await inTransaction(pool, (sql) => sql.rows('SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE NOWAIT'))).length, 1);
  });
});
