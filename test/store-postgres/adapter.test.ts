/**
 * The PostgreSQL adapter's own promises, beyond the port's (test/store/*.test.ts hold both
 * adapters to those): after-commit callbacks only after a COMMIT PostgreSQL confirmed, a deadlock
 * retried whole, conflicts that leave the transaction usable, the audit chain written so that it
 * reads back byte for byte, backups left to PostgreSQL's tools, and a read-only opening for tools.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { entryHash, verifyChain } from '../../server/audit/hashChain.js';
import { loadConfig } from '../../server/config.js';
import { StoreConflict, StoreError, type Store } from '../../server/ports/store.js';
import { SchemaMismatch, schemaVersion } from '../../server/store/postgres/migrate.js';
import { openStore } from '../../server/store/openStore.js';
import { PostgresStore } from '../../server/store/postgres/PostgresStore.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { recordStatements } from './fixtures.js';
import { holderWithKey, later, newKey, organisation, person, T0 } from '../store/adapters.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => undefined as void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('PostgreSQL adapter', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  const hookErrors: unknown[] = [];
  before(async () => {
    db = await freshDatabase();
    store = await PostgresStore.open({ url: db.url, poolSize: 6, onHookError: (err) => hookErrors.push(err) });
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  it('a write inside a write is refused (it could wait on itself), and the outer write still commits', async () => {
    const outer = await store.write(async () => {
      await assert.rejects(store.write(async () => 1), TypeError);
      return 'outer';
    });
    assert.equal(outer, 'outer');
  });

  it('afterCommit only after a real commit: a write whose function swallowed a failed statement is rolled back by PostgreSQL, its caller gets a StoreError and no callback runs', async () => {
    let ran = false;
    const cvr = '61616161';
    await assert.rejects(
      store.write(async (tx) => {
        await organisation(tx, cvr);
        tx.afterCommit(() => {
          ran = true;
        });
        // A key of nobody: the foreign key refuses it, and PostgreSQL aborts the transaction.
        await tx.credentials.insert(newKey(randomUUID())).catch(() => undefined);
      }),
      (err: unknown) => err instanceof StoreError && /rolled back/.test(err.message),
    );
    assert.equal(ran, false);
    assert.equal(await store.read((tx) => tx.organisations.byCvr(cvr)), undefined);
  });

  it('a deadlock PostgreSQL breaks runs the aborted write again from the start: both commit, and each one\'s after-commit callbacks run exactly once', async () => {
    const { key: a } = await holderWithKey(store);
    const { key: b } = await holderWithKey(store);
    const bothLocked = { n: 0, go: deferred() };
    let runs = 0;
    const calls: string[] = [];
    const cross = (first: string, second: string, name: string) =>
      store.write(async (tx) => {
        runs++;
        tx.afterCommit(() => calls.push(name));
        await tx.credentials.rename(first, `${name}-1`, later(1));
        if (++bothLocked.n === 2) bothLocked.go.resolve();
        await bothLocked.go.promise;
        await tx.credentials.rename(second, `${name}-2`, later(2));
        return name;
      });
    assert.deepEqual(await Promise.all([cross(a.id, b.id, 'x'), cross(b.id, a.id, 'y')]), ['x', 'y']);
    assert.equal(runs, 3, 'one of the two ran again');
    assert.deepEqual(calls.sort(), ['x', 'y']);
  });

  it('StoreConflict (an address bound already, a second active signing key, a key id taken) leaves the PostgreSQL transaction usable, as a failed statement does on SQLite: the rest of the write commits', async () => {
    const { holder } = await holderWithKey(store);
    const other = await store.write(async (tx) => person(tx, await organisation(tx)));
    const cvr = '62626262';
    await store.write(async (tx) => {
      const org = await organisation(tx, cvr);
      await assert.rejects(person(tx, org, { email: holder.email }), StoreConflict);
      await assert.rejects(tx.identities.setEmail(other.id, holder.email.toUpperCase()), StoreConflict);
      assert.equal(await tx.identities.setName(other.id, 'Still Here'), true);
      const key = (kid: string) => ({ kid, ckaId: `cka-${kid}`, label: kid, alg: 'ES256', publicJwk: { kty: 'EC' }, state: 'pending' as const, createdAt: T0, promoteAt: null, activatedAt: null });
      await tx.signingKeys.insert(key('one'));
      await tx.signingKeys.insert(key('two'));
      assert.equal(await tx.signingKeys.promote('one', T0), true);
      await assert.rejects(tx.signingKeys.promote('two', T0), StoreConflict, 'one active signing key at most');
      await assert.rejects(tx.signingKeys.insert(key('one')), StoreConflict);
    });
    assert.equal((await store.read((tx) => tx.signingKeys.active()))?.kid, 'one');
    assert.ok(await store.read((tx) => tx.organisations.byCvr(cvr)));
    const after = await store.read((tx) => tx.identities.get(other.id));
    assert.deepEqual([after?.name, after?.email], ['Still Here', other.email]);
  });

  it('NSIS 6 (Low) 7: the chain reads back byte for byte (times to the millisecond, data as written); a time it could not read back as hashed is refused before it is hashed', async () => {
    const data = { text: 'å\u0000"\\', nested: { z: 1, a: [true, null, 1.5] }, big: 2 ** 52 };
    const e = await store.write((tx) => tx.audit.append({ at: later(3), type: 'test.exact', actorId: null, actorRole: 'system', subjectId: null, data }));
    const [back] = await store.read((tx) => tx.audit.page(e.seq, 1));
    assert.deepEqual(back, e);
    assert.equal(entryHash(e.prevHash, back ?? e), e.hash);
    const [raw] = await db.admin(async (c) => (await c.query<{ data: string }>('SELECT data::text AS data FROM audit_events WHERE seq = $1', [e.seq])).rows);
    assert.equal(raw?.data, JSON.stringify(data), 'json keeps the text written');
    for (const at of ['2030-01-01T00:00:00Z', '2030-01-01T01:00:00.000+01:00', 'yesterday']) {
      await assert.rejects(store.write((tx) => tx.audit.append({ at, type: 'test.time', actorId: null, actorRole: 'system', subjectId: null, data: {} })), TypeError);
    }
    assert.equal(verifyChain(await store.read((tx) => tx.audit.page(1, 1000))).ok, true);
  });

  it('NSIS 6 (Low) 7: two stores (two instances) appending at once keep one chain without gaps, and a rolled-back append gives its number back', async () => {
    const other = await PostgresStore.open({ url: db.url, poolSize: 6 });
    try {
      const head = await store.read((tx) => tx.audit.head());
      const append = (s: Store, i: number) => s.write((tx) => tx.audit.append({ at: later(i), type: 'test.two', actorId: null, actorRole: 'system', subjectId: null, data: { i } }));
      await assert.rejects(
        other.write(async (tx) => {
          await tx.audit.append({ at: T0, type: 'test.rolled-back', actorId: null, actorRole: 'system', subjectId: null, data: {} });
          throw new Error('rolled back');
        }),
      );
      const seqs = (await Promise.all(Array.from({ length: 40 }, (_, i) => append(i % 2 === 0 ? store : other, i)))).map((e) => e.seq).sort((x, y) => x - y);
      assert.deepEqual(seqs, Array.from({ length: 40 }, (_, i) => head.seq + 1 + i), 'no gaps, and the rolled-back number was given back');
      const entries = await store.read((tx) => tx.audit.page(1, 100_000));
      assert.equal(verifyChain(entries).ok, true);
      assert.ok(entries.every((e) => e.type !== 'test.rolled-back'));
    } finally {
      await other.close();
    }
  });

  it('NSIS 6 (Low) 7, issue 17: a write\'s audit entries and the history row naming one are appended by ONE statement right before COMMIT: the chain\'s head is free while the write\'s other statements run, locked from that statement to the commit', async () => {
    const { key } = await holderWithKey(store);
    const head = await store.read((tx) => tx.audit.head());
    const headFree = () =>
      db.admin((c) => c.query('SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE NOWAIT')).then(
        () => 'free',
        (err: unknown) => ((err as { code?: string }).code === '55P03' ? 'locked' : `unexpected: ${String(err)}`),
      );
    const recorder = recordStatements();
    const seen: string[] = [];
    let sentBefore = 0;
    try {
      await store.write(async (tx) => {
        const issued = await tx.audit.add({ at: later(70), type: 'credential.suspend', actorId: null, actorRole: 'system', subjectId: key.id, data: { i: 1 } });
        await tx.credentials.addEventFor(issued, { credentialId: key.id, action: 'suspend', fromState: 'issued', toState: 'suspended', actorId: null, actorRole: 'system', reason: 'lost', note: null, clause: 'test', at: later(70) });
        await tx.audit.add({ at: later(71), type: 'activation-code.issued', actorId: null, actorRole: 'system', subjectId: key.id, data: { i: 2 } });
        seen.push(await headFree());
        await tx.outbox.enqueue({ id: randomUUID(), channel: 'email', recipient: 'a@example.test', subject: 's', body: 'b', kind: 'k', createdAt: later(71), nextAttemptAt: later(71), receiptClaims: null, secretRef: null });
        seen.push(await headFree());
        sentBefore = recorder.sent.length;
      });
    } finally {
      recorder.restore();
    }
    assert.deepEqual(seen, ['free', 'free'], 'no lock on the head while the write runs its other statements');
    const after = recorder.sent.slice(sentBefore);
    assert.equal(after.length, 2, 'after fn: the append and COMMIT');
    assert.match(after[0] ?? '', /audit_chain_head[\s\S]*FOR UPDATE[\s\S]*INSERT INTO credential_events/);
    assert.equal(after[1], 'COMMIT');
    assert.equal(recorder.sent.filter((t) => t.includes('audit_chain_head') && !t.includes('NOWAIT')).length, 1, 'one statement of the write touches the chain (the others are the probe)');
    const entries = await store.read((tx) => tx.audit.page(head.seq + 1, 10));
    assert.deepEqual(entries.map((e) => [e.seq, e.type]), [[head.seq + 1, 'credential.suspend'], [head.seq + 2, 'activation-code.issued']]);
    assert.equal(verifyChain(entries, head.hash, head.seq + 1).ok, true);
    assert.deepEqual((await store.read((tx) => tx.credentials.events(key.id))).map((e) => e.auditSeq), [head.seq + 1]);
    // chained() appends at once: from then to the commit the head is locked.
    await store.write(async (tx) => {
      await (await tx.audit.add({ at: later(72), type: 'test.chained', actorId: null, actorRole: 'system', subjectId: null, data: {} })).chained();
      seen.push(await headFree());
    });
    assert.equal(seen[2], 'locked');
  });

  it('issue 17: a one-statement read runs without BEGIN and COMMIT, sees what was committed, and a second statement in it is refused, not run', async () => {
    const { holder, key } = await holderWithKey(store);
    const { sent, restore } = recordStatements();
    try {
      const got = await store.read((tx) => tx.credentials.withHolder(key.credentialId), { oneStatement: true });
      assert.equal(got?.identity?.id, holder.id);
      assert.equal(sent.length, 1, sent.join(' | '));
      assert.doesNotMatch(sent[0] ?? '', /^(BEGIN|COMMIT)/);
      sent.length = 0;
      await assert.rejects(
        store.read(async (tx) => [await tx.credentials.byCredentialId(key.credentialId), await tx.identities.get(holder.id)], { oneStatement: true }),
        (err: unknown) => err instanceof TypeError && /second statement/.test(err.message),
      );
      assert.equal(sent.length, 1, 'the second statement was never sent');
    } finally {
      restore();
    }
  });

  it('backups are PostgreSQL\'s tools\' business: the store refuses and says which to use', async () => {
    await assert.rejects(store.tools.backup('/tmp/never.db'), (err: unknown) => err instanceof StoreError && /pg_dump/.test(err.message) && /point-in-time/.test(err.message));
  });

  it('describe names the database without its password and how durably it commits', async () => {
    const d = await store.tools.describe();
    assert.equal(d.engine, 'postgres');
    assert.ok(d.location.includes(db.name));
    const password = db.url.revealPassword();
    assert.ok(password && !d.location.includes(password), 'no password');
    assert.equal(d.settings['synchronous_commit'], 'on');
    assert.equal(d.settings['pool_size'], 6);
  });

  it('a tool opening without migrating refuses a database at another schema version, and changes nothing', async () => {
    const empty = await freshDatabase({ migrated: false });
    try {
      await assert.rejects(PostgresStore.open({ url: empty.url, migrate: false }), SchemaMismatch);
      const pool = empty.pool({ max: 1 });
      assert.equal(await schemaVersion(pool), 0);
      const opened = await PostgresStore.open({ url: db.url, migrate: false });
      assert.equal(await opened.schemaVersion(), await store.schemaVersion());
      await opened.close();
    } finally {
      await empty.drop();
    }
  });

  it('issue 14: GATEWAY_DATABASE_URL selects the PostgreSQL adapter (its pool size from GATEWAY_DATABASE_POOL_SIZE); unset, SQLite under the data directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-open-'));
    try {
      const onPostgres = await openStore(loadConfig({ GATEWAY_DATABASE_URL: db.urlText, GATEWAY_DATABASE_POOL_SIZE: '3' }, dir));
      try {
        const d = await onPostgres.tools.describe();
        assert.deepEqual([onPostgres.engine, d.settings['pool_size']], ['postgres', 3]);
        await onPostgres.health();
      } finally {
        await onPostgres.close();
      }
      const config = loadConfig({}, dir);
      const onSqlite = await openStore(config);
      try {
        assert.deepEqual([onSqlite.engine, (await onSqlite.tools.describe()).location], ['sqlite', config.dbFile]);
      } finally {
        await onSqlite.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a throwing after-commit callback is reported, never turned into a failure of the committed write', async () => {
    const before = hookErrors.length;
    const value = await store.write(async (tx) => {
      tx.afterCommit(() => {
        throw new Error('observer failed');
      });
      return 'committed';
    });
    assert.equal(value, 'committed');
    assert.equal(hookErrors.length, before + 1);
  });
  it('NSIS 3.2.3 (Substantial) 6: a key read inside a write stays as read until the commit: another instance\'s transition of it waits, then finds the state changed and is refused', async () => {
    const { key } = await holderWithKey(store, { state: 'active' });
    const other = await PostgresStore.open({ url: db.url, poolSize: 2 });
    try {
      const read = deferred();
      const release = deferred();
      // This write reads the key and decides on it (a row that changes no state: nothing to compare-and-set).
      const first = store.write(async (tx) => {
        const seen = await tx.credentials.get(key.id);
        read.resolve();
        await release.promise;
        assert.ok(await tx.credentials.setState(key.id, 'active', 'suspended', 'lost', later(1)));
        return seen?.state;
      });
      await read.promise;
      let secondDone = false;
      const second = other.write(async (tx) => {
        const seen = await tx.credentials.get(key.id);
        secondDone = true;
        return seen?.state;
      });
      // The second instance's read waits on the first's row lock: PostgreSQL shows it waiting.
      const until = Date.now() + 30_000;
      for (;;) {
        const waiting = await db.admin((c) => c.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", [db.name]));
        if (waiting.rowCount === 1) break;
        assert.equal(secondDone, false, 'the second read did not wait for the first write');
        if (Date.now() > until) assert.fail('the second read never waited on the row lock');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      release.resolve();
      assert.equal(await first, 'active');
      assert.equal(await second, 'suspended', 'the waiting write read the state the first committed');
      assert.equal((await store.read((tx) => tx.credentials.get(key.id)))?.state, 'suspended');
    } finally {
      await other.close();
    }
  });
});

