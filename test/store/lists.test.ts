/**
 * Store conformance: the staff lists (issue 16) - filters, a stable sort (whitelisted column, id
 * tiebreak, NULLs last), offset paging and the hard page cap, the same on every engine.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { approvalNames, describeApproval } from '../../server/approvals/describe.js';
import type { Identity, Organisation } from '../../server/domain/types.js';
import { LIST_PAGE_CAP, openApprovalRow, type KeyFilter, type KeySort, type PageRequest, type PeopleFilter, type PeopleSort } from '../../server/ports/lists.js';
import type { Store } from '../../server/ports/store.js';
import { ADAPTERS, T0, key, later, organisation, person } from './adapters.js';

const YUBI = '2fc0579f-8113-47ea-b116-bb5a8db9202a';

function pageOf<S extends string>(sort: S, over: Partial<PageRequest<S>> = {}): PageRequest<S> {
  return { sort, direction: 'asc', limit: 50, offset: 0, ...over };
}

for (const adapter of ADAPTERS) {
  describe(`store conformance (${adapter.name}): staff lists`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let org: Organisation;
    let other: Organisation;
    let anna1: Identity;
    let anna2: Identity;
    let bo: Identity;
    let ended: Identity;
    let helper: Identity;
    const keys: Record<string, string> = {};

    before(async () => {
      ({ store, dispose } = await adapter.fresh());
      await store.write(async (tx) => {
        org = await organisation(tx);
        other = await organisation(tx);
        anna1 = await person(tx, org, { name: 'Anna Berg', email: 'anna.berg@example.test', createdAt: later(1) });
        anna2 = await person(tx, org, { name: 'Anna Berg', email: 'anna.b2@example.test', createdAt: later(2) });
        bo = await person(tx, org, { name: 'Bo Dahl', email: 'bo@example.test', createdAt: later(3) });
        ended = await person(tx, org, { name: 'Carl Ended', email: 'carl@example.test', createdAt: later(4) });
        helper = await person(tx, org, { name: 'Dina Help', email: 'dina@example.test', createdAt: later(5) });
        await person(tx, other, { name: 'Anna Berg', email: 'anna@other.test', createdAt: later(6) });
        await tx.identities.grantRole(helper.id, 'helpdesk', null, T0);
        keys['a1active'] = (await key(tx, anna1.id, { label: 'Blue', state: 'active', aal: 'high', model: 'YubiKey 5 NFC', aaguid: YUBI, expiresAt: later(10 * 86400) })).id;
        keys['a1lost'] = (await key(tx, anna1.id, { label: 'Old', state: 'suspended', stateReason: 'lost', aal: 'substantial', expiresAt: later(400 * 86400) })).id;
        keys['a2issued'] = (await key(tx, anna2.id, { label: 'New', state: 'issued', aal: 'low', createdAt: later(20) })).id;
        keys['boActive'] = (await key(tx, bo.id, { label: 'Work', state: 'active', aal: 'substantial', model: 'Feitian ePass' })).id;
        keys['boRevoked'] = (await key(tx, bo.id, { label: 'Gone', state: 'revoked', stateReason: 'damaged', aal: 'high', expiresAt: later(5 * 86400) })).id;
        keys['helperActive'] = (await key(tx, helper.id, { label: 'Desk', state: 'active', aal: 'high' })).id;
      });
      await store.write(async (tx) => {
        assert.ok(await tx.credentials.recordUse(keys['a1active'] ?? '', 0, 1, false, later(100)));
        assert.ok(await tx.credentials.recordUse(keys['boActive'] ?? '', 0, 1, false, later(50 * 86400)));
        assert.ok(await tx.identities.endBinding(ended.id, later(30)));
      });
    });
    after(async () => {
      await dispose();
    });

    const people = async (f: Omit<PeopleFilter, 'organisationId'>, p: PageRequest<PeopleSort> = pageOf<PeopleSort>('name')) =>
      store.read((tx) => tx.lists.people({ organisationId: org.id, ...f }, p));
    const keyIds = async (f: Omit<KeyFilter, 'organisationId'>, p: PageRequest<KeySort> = pageOf<KeySort>('createdAt')) =>
      (await store.read((tx) => tx.lists.keys({ organisationId: org.id, ...f }, p))).items.map((k) => k.id);

    it('issue 16: people are filtered by binding state, role, "no active key" and text, only in the own organisation, with email and key counts to tell the same name apart', async () => {
      const all = await people({});
      assert.equal(all.total, 5, 'the other organisation is not listed');
      const annas = all.items.filter((p) => p.name === 'Anna Berg');
      assert.deepEqual(annas.map((p) => p.email).sort(), ['anna.b2@example.test', 'anna.berg@example.test']);
      const a1 = all.items.find((p) => p.id === anna1.id);
      assert.equal(a1?.keyCount, 2);
      assert.equal(a1?.activeKeyCount, 1);
      assert.deepEqual(a1?.roles, ['employee']);
      assert.deepEqual((await people({ bindingState: 'ended' })).items.map((p) => p.id), [ended.id]);
      assert.deepEqual((await people({ role: 'helpdesk' })).items.map((p) => p.id), [helper.id]);
      assert.deepEqual((await people({ noActiveKey: true })).items.map((p) => p.id), [anna2.id], 'bound people without an active key');
      assert.deepEqual((await people({ query: 'ANNA.B2' })).items.map((p) => p.id), [anna2.id]);
      assert.deepEqual((await people({ query: anna1.id })).items.map((p) => p.id), [anna1.id]);
      assert.equal((await people({ query: '%' })).total, 0, 'LIKE wildcards are matched literally');
    });

    it('issue 16: the people sort is stable (same names tie-broken by id), reverses with the direction, and paging visits every row once', async () => {
      const asc = (await people({}, pageOf<PeopleSort>('name'))).items.map((p) => p.id);
      const desc = (await people({}, pageOf<PeopleSort>('name', { direction: 'desc' }))).items.map((p) => p.id);
      assert.deepEqual(desc, [...asc].reverse());
      const [first, second] = [anna1.id, anna2.id].sort();
      assert.deepEqual(asc.slice(0, 2), [first, second], 'two Anna Bergs in id order');
      for (let run = 0; run < 2; run++) assert.deepEqual((await people({}, pageOf<PeopleSort>('name'))).items.map((p) => p.id), asc, 'the same order every time');
      const paged: string[] = [];
      for (let offset = 0; offset < 7; offset += 2) {
        const page = await people({}, pageOf<PeopleSort>('name', { limit: 2, offset }));
        assert.equal(page.total, 5);
        paged.push(...page.items.map((p) => p.id));
      }
      assert.deepEqual(paged, asc, 'pages of two give the same rows in the same order, none twice');
      assert.deepEqual((await people({}, pageOf<PeopleSort>('name', { offset: 5 }))).items, [], 'past the end: an empty page');
      const byKeys = (await people({}, pageOf<PeopleSort>('activeKeyCount'))).items.map((p) => p.activeKeyCount);
      assert.deepEqual(byKeys, [...byKeys].sort((a, b) => a - b));
    });

    it('issue 16: keys are filtered by state, model (description or AAGUID), level, reason, last use before/after and expiry', async () => {
      assert.deepEqual((await keyIds({ states: ['issued'] })), [keys['a2issued']]);
      assert.deepEqual((await keyIds({ states: ['suspended'], reason: 'lost' })), [keys['a1lost']], 'suspended for a reason');
      assert.deepEqual((await keyIds({ model: 'yubikey' })), [keys['a1active']]);
      assert.deepEqual((await keyIds({ model: YUBI.toUpperCase() })), [keys['a1active']], 'AAGUID in any case');
      assert.deepEqual((await keyIds({ aal: 'high', states: ['active'] })).sort(), [keys['a1active'], keys['helperActive']].sort());
      assert.deepEqual((await keyIds({ lastUsedAfter: later(86400) })), [keys['boActive']]);
      const notSince = await keyIds({ lastUsedBefore: later(86400) });
      assert.ok(notSince.includes(keys['a1active'] ?? '') && notSince.includes(keys['a2issued'] ?? ''), 'never used counts as not used since');
      assert.ok(!notSince.includes(keys['boActive'] ?? ''));
      assert.deepEqual((await keyIds({ expiresBy: later(30 * 86400) })), [keys['a1active']], 'a revoked key does not expire any more');
      assert.deepEqual((await keyIds({ query: 'desk' })), [keys['helperActive']], 'by label');
      assert.equal((await keyIds({ query: 'Anna' })).length, 3, 'by holder name');
      const row = (await store.read((tx) => tx.lists.keys({ organisationId: org.id, states: ['active'], model: 'yubi' }, pageOf<KeySort>('holder')))).items[0];
      assert.equal(row?.holderName, 'Anna Berg');
      assert.equal(row?.holderEmail, 'anna.berg@example.test');
      assert.equal(row?.lastUsedAt, later(100));
      assert.ok(row && !('publicKey' in row), 'no key material in a list row');
    });

    it('issue 16: keys sort by level in assurance order and by last use with never-used keys last in both directions, ties by id', async () => {
      const byAal = (await store.read((tx) => tx.lists.keys({ organisationId: org.id }, pageOf<KeySort>('aal')))).items.map((k) => k.aal);
      assert.deepEqual(byAal, ['low', 'substantial', 'substantial', 'high', 'high', 'high']);
      for (const direction of ['asc', 'desc'] as const) {
        const used = (await store.read((tx) => tx.lists.keys({ organisationId: org.id }, pageOf<KeySort>('lastUsedAt', { direction })))).items;
        const firstNull = used.findIndex((k) => k.lastUsedAt === null);
        assert.ok(used.slice(firstNull).every((k) => k.lastUsedAt === null), `NULLs last (${direction})`);
        const nulls = used.slice(firstNull).map((k) => k.id);
        assert.deepEqual(nulls, [...nulls].sort((a, b) => (direction === 'asc' ? (a < b ? -1 : 1) : a < b ? 1 : -1)), 'ties by id');
      }
      const used = (await store.read((tx) => tx.lists.keys({ organisationId: org.id }, pageOf<KeySort>('lastUsedAt', { direction: 'desc' })))).items;
      assert.deepEqual(used.slice(0, 2).map((k) => k.id), [keys['boActive'], keys['a1active']]);
    });

    it('issue 16: a page holds at most LIST_PAGE_CAP rows whatever is asked, and the total counts them all', async () => {
      const big = await store.write(async (tx) => {
        const o = await organisation(tx);
        for (let i = 0; i < LIST_PAGE_CAP + 5; i++) await person(tx, o, { name: `P ${String(i).padStart(3, '0')}` });
        return o;
      });
      const page = await store.read((tx) => tx.lists.people({ organisationId: big.id }, pageOf<PeopleSort>('name', { limit: 10_000 })));
      assert.equal(page.items.length, LIST_PAGE_CAP);
      assert.equal(page.total, LIST_PAGE_CAP + 5);
      const rest = await store.read((tx) => tx.lists.people({ organisationId: big.id }, pageOf<PeopleSort>('name', { limit: LIST_PAGE_CAP, offset: LIST_PAGE_CAP })));
      assert.deepEqual(rest.items.map((p) => p.name), ['P 100', 'P 101', 'P 102', 'P 103', 'P 104']);
      const zero = await store.read((tx) => tx.lists.people({ organisationId: big.id }, pageOf<PeopleSort>('name', { limit: 0 })));
      assert.equal(zero.items.length, 1, 'a page has at least one row');
    });

    it('issue 16 / NSIS 3.2.2 (High) 3: open approvals are the pending requests of the asked kinds, with the requester by name, oldest first', async () => {
      const ids = await store.write(async (tx) => {
        const mk = async (kind: 'bulk' | 'role-grant' | 'replacement', at: string) => {
          const id = randomUUID();
          await tx.approvals.insert({ id, kind, payload: '{}', summary: kind, items: [], subjects: [anna1.id], requestedBy: helper.id, requestedRole: 'helpdesk', requestedAt: at });
          return id;
        };
        const bulk = await mk('bulk', later(200));
        const grant = await mk('role-grant', later(100));
        const repl = await mk('replacement', later(300));
        const decided = await mk('bulk', later(50));
        assert.ok(await tx.approvals.decide(decided, 'rejected', bo.id, 'helpdesk', later(60), null));
        return { bulk, grant, repl };
      });
      const open = await store.read((tx) => tx.lists.openApprovals({ kinds: ['bulk', 'replacement'] }, pageOf('requestedAt' as const)));
      assert.deepEqual(open.items.map((a) => a.row.id), [ids.bulk, ids.repl]);
      assert.equal(open.total, 2);
      assert.equal(open.items[0]?.row.requestedByName, 'Dina Help');
      assert.ok(open.items[0] && !('payload' in open.items[0].row), 'the payload stays on the server (not in the row a list shows)');
      const newest = await store.read((tx) => tx.lists.openApprovals({ kinds: ['bulk', 'replacement', 'role-grant'] }, pageOf('requestedAt' as const, { direction: 'desc', limit: 1 })));
      assert.deepEqual(newest.items.map((a) => a.row.id), [ids.repl]);
      assert.equal(newest.total, 3);
    });

    const OPEN_KINDS = ['bulk', 'replacement', 'role-grant', 'contact-change'] as const;

    it('issue 16: each open approval comes with its payload and the names of the people it is about, in its subjects\' order: the same as reading the approval and each person (the summary in either language the same)', async () => {
      await store.write(async (tx) => {
        const mk = (kind: (typeof OPEN_KINDS)[number], payload: unknown, subjects: string[], at: string) =>
          tx.approvals.insert({ id: randomUUID(), kind, payload: JSON.stringify(payload), summary: `stored ${kind}`, items: [], subjects, requestedBy: helper.id, requestedRole: 'helpdesk', requestedAt: at });
        await mk('contact-change', { identityId: bo.id, from: 'bo@example.test', to: 'bo.new@example.test' }, [bo.id], later(400));
        await mk('role-grant', { identityId: anna2.id, roles: ['helpdesk'] }, [anna2.id], later(401));
        // People in an order that is not the id order, one twice, and one who does not exist.
        await mk('bulk', { action: 'suspend', credentialIds: [keys['boActive'], keys['a1active']], reason: 'lost' }, [bo.id, 'no-such-person', anna1.id, bo.id], later(402));
        await mk('replacement', { identityId: 'no-such-person' }, ['no-such-person'], later(403));
      });
      const page = await store.read((tx) => tx.lists.openApprovals({ kinds: OPEN_KINDS }, pageOf('requestedAt' as const)));
      assert.ok(page.items.length >= 7, `${page.items.length} open approvals`);
      assert.equal(page.total, page.items.length);
      for (const got of page.items) {
        const { record, names, requester } = await store.read(async (tx) => {
          const record = await tx.approvals.get(got.row.id);
          assert.ok(record);
          return { record, names: await approvalNames(record.subjects, (id) => tx.identities.get(id)), requester: (await tx.identities.get(record.requestedBy))?.name ?? null };
        });
        assert.deepEqual(got.row, openApprovalRow(record, requester));
        assert.equal(got.payload, record.payload);
        assert.deepEqual([...got.subjectNames.entries()], [...names.entries()], `${record.kind}: the people, in the subjects' order`);
        for (const language of ['en', 'da'] as const) assert.equal(describeApproval({ ...got.row, payload: got.payload }, got.subjectNames, language), describeApproval(record, names, language));
      }
      const bulk = page.items.find((a) => a.row.kind === 'bulk' && a.subjectNames.size > 1);
      assert.deepEqual([...(bulk?.subjectNames.keys() ?? [])], [bo.id, anna1.id]);
      assert.ok(bulk);
      assert.match(describeApproval({ ...bulk.row, payload: bulk.payload }, bulk.subjectNames, 'en'), /Bo Dahl.*Anna Berg/);
    });

    it('issue 16: a page of open approvals is ONE statement whatever it holds (no read per row or person), and paging visits every row once', async () => {
      const many = 2 * LIST_PAGE_CAP + 7;
      const { crowd, made } = await store.write(async (tx) => {
        const crowd: Identity[] = [];
        for (let i = 0; i < 6; i++) crowd.push(await person(tx, org, { name: `Crowd ${i}` }));
        const made: string[] = [];
        for (let i = 0; i < many; i++) {
          const id = randomUUID();
          made.push(id);
          const payload = JSON.stringify({ reason: `rotation ${i}` });
          await tx.approvals.insert({ id, kind: 'hsm-key-rotation', payload, summary: `rotation ${i}`, items: [], subjects: crowd.map((c) => c.id), requestedBy: helper.id, requestedRole: 'security-officer', requestedAt: later(1000 + i) });
        }
        return { crowd, made };
      });
      const seen: string[] = [];
      for (let offset = 0; offset < many; offset += LIST_PAGE_CAP) {
        // oneStatement: the adapter refuses a second statement (server/store/*/: readOne, readInOneStatement).
        const page = await store.read((tx) => tx.lists.openApprovals({ kinds: ['hsm-key-rotation'] }, pageOf('requestedAt' as const, { limit: LIST_PAGE_CAP, offset })), { oneStatement: true });
        assert.equal(page.total, many);
        assert.equal(page.items.length, Math.min(LIST_PAGE_CAP, many - offset));
        for (const a of page.items) {
          assert.deepEqual([...a.subjectNames.keys()], crowd.map((c) => c.id));
          assert.equal(a.payload, JSON.stringify({ reason: a.row.summary }), 'each row its own payload');
        }
        seen.push(...page.items.map((a) => a.row.id));
      }
      assert.deepEqual(seen, made, 'oldest first, each once');
      const past = await store.read((tx) => tx.lists.openApprovals({ kinds: ['hsm-key-rotation'] }, pageOf('requestedAt' as const, { offset: many + 10 })));
      assert.deepEqual(past, { items: [], total: many }, 'a page past the last row still says how many there are');
      const none = await store.read((tx) => tx.lists.openApprovals({ kinds: ['hsm-key-destroy'] }, pageOf('requestedAt' as const)), { oneStatement: true });
      assert.deepEqual(none, { items: [], total: 0 });
    });
  });
}
