/**
 * Reconciliation: the pure comparison of our people with MitID Erhverv's employees (each kind of
 * difference, its repair or report, the rules table), and a live round against the contract
 * server: collect, reconcile, run the repairs as jobs, reconcile again -> nothing left to repair.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  FINDING_KINDS,
  type FindingKind,
  type IdmJob,
  type OurPerson,
  RECONCILIATION_RULES,
  type TheirEmployee,
  collectEmployees,
  reconcile,
  runJob,
} from '../../server/idm/index.js';
import { type IdmHarness, startIdm } from '../support/idmHarness.js';

const U = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function person(name: string, extra: Partial<OurPerson> = {}): OurPerson {
  return {
    personId: `p-${name}`,
    subjectNameId: `ext-${name}`,
    employeeUuid: null,
    state: 'active',
    profile: { givenName: name, surname: 'Jensen', email: `${name}@demo.example`, ial: 'substantial' },
    rid: null,
    ...extra,
  };
}

function employee(n: number, name: string | null, extra: Partial<TheirEmployee> = {}): TheirEmployee {
  return { uuid: U(n), status: 'Active', email: name ? `${name}@demo.example` : null, subjectNameIds: name ? [`ext-${name}`] : [], ...extra };
}

const kinds = (r: ReturnType<typeof reconcile>) => r.findings.map((f) => [f.kind, f.personId ?? f.employeeUuid]);

test('Reconciliation, in step: linked people with the same state, email and subject name id give no finding', () => {
  const r = reconcile([person('a', { employeeUuid: U(1) }), person('b', { employeeUuid: U(2), state: 'suspended' })], [employee(1, 'a'), employee(2, 'b', { status: 'Suspended' })]);
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.repairs, []);
  assert.deepEqual(r.summary, { ours: 2, theirs: 2, matched: 2, unmanaged: 0 });
});

test('NSIS 5.2: a person here but not there is repaired by a bind job (and a suspension when suspended here)', () => {
  const r = reconcile([person('a'), person('s', { state: 'suspended' })], []);
  assert.deepEqual(kinds(r), [['here-not-there', 'p-a'], ['here-not-there', 'p-s']]);
  assert.deepEqual(
    r.repairs.map((x) => (x.kind === 'job' ? [x.job.kind, x.job.personId] : x.kind)),
    [['bind', 'p-a'], ['bind', 'p-s'], ['suspend-person', 'p-s']],
  );
  const bind = r.repairs[0];
  assert.ok(bind?.kind === 'job' && bind.job.kind === 'bind');
  assert.deepEqual(bind.job.profile, person('a').profile);
});

test('NSIS 5.2 (Low) 3: a binding ended here whose account is still there is repaired by end-binding', () => {
  const r = reconcile([person('e', { state: 'ended', employeeUuid: U(3) }), person('gone', { state: 'ended' })], [employee(3, 'e')]);
  assert.deepEqual(kinds(r), [['ended-here-still-there', 'p-e']]);
  assert.ok(r.repairs[0]?.kind === 'job' && r.repairs[0].job.kind === 'end-binding' && r.repairs[0].job.employeeUuid === U(3));
});

test('NSIS 3.2.3: suspended here only is repaired (suspend there); suspended there only is reported, never undone', () => {
  const r = reconcile([person('h', { employeeUuid: U(4), state: 'suspended' }), person('t', { employeeUuid: U(5) })], [employee(4, 'h'), employee(5, 't', { status: 'Suspended' })]);
  assert.deepEqual(kinds(r), [['suspended-here-only', 'p-h'], ['suspended-there-only', 'p-t']]);
  assert.deepEqual(r.findings.map((f) => f.repaired), [true, false]);
  assert.equal(r.repairs.length, 1);
  assert.ok(r.repairs[0]?.kind === 'job' && r.repairs[0].job.kind === 'suspend-person');
});

test('Subject name id: a mismatch on a linked account and a duplicate are reported only; a missing link is repaired by linking', () => {
  const r = reconcile(
    [person('m', { employeeUuid: U(6) }), person('d'), person('l')],
    [employee(6, 'someone-else'), employee(7, 'd'), employee(8, 'd'), employee(9, 'l')],
  );
  assert.deepEqual(kinds(r), [['subject-name-id-mismatch', 'p-m'], ['duplicate-subject-name-id', 'p-d'], ['link-missing', 'p-l']]);
  assert.deepEqual(r.repairs, [{ kind: 'link', personId: 'p-l', employeeUuid: U(9) }]);
  // The mismatching account is linked to p-m by uuid: accounted for, not "there-not-here", and
  // nothing else (its email) is pushed to it.
  assert.ok(!r.findings.some((f) => f.kind === 'there-not-here'));
});

test('Reconciliation: an account with a Local IdP subject name id nobody here has is reported, never deleted; accounts without one are not ours', () => {
  const r = reconcile([], [employee(10, 'stranger'), employee(11, null)]);
  assert.deepEqual(kinds(r), [['there-not-here', U(10)]]);
  assert.deepEqual(r.repairs, []);
  assert.equal(r.summary.unmanaged, 1);
});

test('Reconciliation: a different email there is repaired by a contact change (the gateway holds contact data); case alone is no difference', () => {
  const r = reconcile([person('c', { employeeUuid: U(12) }), person('k', { employeeUuid: U(13) })], [employee(12, 'c', { email: 'c.old@demo.example' }), employee(13, 'k', { email: 'K@Demo.Example' })]);
  assert.deepEqual(kinds(r), [['email-differs', 'p-c']]);
  assert.ok(r.repairs[0]?.kind === 'job' && r.repairs[0].job.kind === 'contact-change' && !r.repairs[0].job.identifying);
});

test('Reconciliation rules table: every finding kind has a row, and a finding is repaired exactly when its row names a repair', () => {
  assert.deepEqual(Object.keys(RECONCILIATION_RULES).sort(), [...FINDING_KINDS].sort());
  const all = reconcile(
    [
      person('a'),
      person('e', { state: 'ended', employeeUuid: U(3) }),
      person('h', { employeeUuid: U(4), state: 'suspended' }),
      person('t', { employeeUuid: U(5) }),
      person('m', { employeeUuid: U(6) }),
      person('d'),
      person('l'),
      person('c', { employeeUuid: U(12) }),
    ],
    [employee(3, 'e'), employee(4, 'h'), employee(5, 't', { status: 'Suspended' }), employee(6, 'x'), employee(7, 'd'), employee(8, 'd'), employee(9, 'l'), employee(10, 'stranger'), employee(12, 'c', { email: 'old@x.dk' })],
  );
  const seen = new Set<FindingKind>(all.findings.map((f) => f.kind));
  assert.deepEqual([...seen].sort(), [...FINDING_KINDS].sort());
  for (const f of all.findings) assert.equal(f.repaired, RECONCILIATION_RULES[f.kind].repair !== null, f.kind);
});

let h: IdmHarness;
before(async () => {
  h = await startIdm();
});
after(async () => h.close());

test('MitID Erhverv Local IdM: nightly reconciliation against the API converges: repairs run as jobs, the second round finds nothing to repair', async () => {
  const client = h.client();
  // MitID Erhverv as found: one of ours active there though suspended here, one ended here still
  // there, one with an old email, one made by hand that nobody here has.
  const suspended = h.server.seed({ emailAddress: 'sara@demo.example', subjectNameId: 'ext-sara' });
  const ended = h.server.seed({ emailAddress: 'emil@demo.example', subjectNameId: 'ext-emil' });
  const moved = h.server.seed({ emailAddress: 'old.mona@demo.example', subjectNameId: 'ext-mona' });
  h.server.seed({ emailAddress: 'manual@demo.example', subjectNameId: 'manual-1' });
  h.server.seed({ emailAddress: 'private-mitid@demo.example' });
  const ours = [
    person('nina'),
    person('sara', { state: 'suspended', employeeUuid: suspended.uuid }),
    person('emil', { state: 'ended', employeeUuid: ended.uuid }),
    person('mona', { employeeUuid: moved.uuid }),
  ];
  const first = reconcile(ours, await collectEmployees(client));
  assert.deepEqual(first.findings.map((f) => f.kind).sort(), ['email-differs', 'ended-here-still-there', 'here-not-there', 'suspended-here-only', 'there-not-here']);
  let key = 0;
  for (const repair of first.repairs) {
    if (repair.kind !== 'job') continue;
    const job: IdmJob = { ...repair.job, key: `repair-${++key}` };
    const outcome = await runJob(job, client);
    assert.equal(outcome.status, 'done', JSON.stringify(outcome));
    if (outcome.status === 'done' && job.kind === 'bind') {
      const p = ours.find((x) => x.personId === job.personId);
      if (p) p.employeeUuid = outcome.employeeUuid;
    }
    if (outcome.status === 'done' && job.kind === 'end-binding') {
      const p = ours.find((x) => x.personId === job.personId);
      if (p) p.employeeUuid = null;
    }
  }
  const second = reconcile(ours, await collectEmployees(client));
  assert.deepEqual(second.repairs, []);
  assert.deepEqual(second.findings.map((f) => f.kind), ['there-not-here'], 'only the hand-made account remains, for a person to decide');
  assert.equal(second.summary.unmanaged, 1);
  assert.equal(h.server.employees.get(suspended.uuid)?.status, 'Suspended');
  assert.equal(h.server.employees.has(ended.uuid), false);
  assert.equal(h.server.employees.get(moved.uuid)?.emailAddress, 'mona@demo.example');
});
