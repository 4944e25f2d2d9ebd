/**
 * runJob against the contract server: each job kind, idempotency after an unknown outcome (the
 * create took effect but the answer never came), 409 linking, "already in that state" as done,
 * 404 as done, and the outcome classes; plus the backoff policy.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFAULT_BACKOFF, type IdmClient, type IdmJob, type JobOutcome, idmJobSchema, nextStep, retryDelaySeconds, runJob } from '../../server/idm/index.js';
import { type IdmHarness, startIdm } from '../support/idmHarness.js';

let h: IdmHarness;
let client: IdmClient;
before(async () => {
  h = await startIdm();
  client = h.client({ timeoutMs: 1500 });
});
after(async () => h.close());

let n = 0;
type BindJob = Extract<IdmJob, { kind: 'bind' }>;
function bindJob(name: string, extra: Partial<BindJob> = {}): BindJob {
  n++;
  const job: BindJob = {
    kind: 'bind',
    key: `bind-${n}`,
    personId: `person-${name}`,
    subjectNameId: `ext-${name}`,
    employeeUuid: null,
    email: `${name}@demo.example`,
    profile: { givenName: name, surname: 'Jensen', email: `${name}@demo.example`, ial: 'substantial' },
    rid: null,
    ...extra,
  };
  assert.ok(idmJobSchema.safeParse(job).success);
  return job;
}

function followUp(kind: 'suspend-person' | 'reactivate-person' | 'end-binding', name: string, employeeUuid: string | null): IdmJob {
  n++;
  return { kind, key: `${kind}-${n}`, personId: `person-${name}`, subjectNameId: `ext-${name}`, employeeUuid, email: `${name}@demo.example` };
}

const creates = () => h.server.effects.filter((e) => e.kind === 'create').length;

function doneUuid(o: JobOutcome, note: string): string {
  assert.equal(o.status, 'done', JSON.stringify(o));
  assert.ok(o.status === 'done');
  assert.equal(o.note, note);
  assert.ok(o.employeeUuid);
  return o.employeeUuid;
}

test('NSIS 5.2: bind creates the employee with the LocalIdentityProvider authenticator and the subject name id; running it again links, creating nothing', async () => {
  const before = creates();
  const uuid = doneUuid(await runJob(bindJob('anna'), client), 'created');
  const e = h.server.employees.get(uuid);
  assert.deepEqual(e?.authenticators.map((a) => [a.type, a.id]), [['LocalIdentityProvider', 'ext-anna']]);
  assert.equal(e?.status, 'Active');
  assert.equal(doneUuid(await runJob(bindJob('anna'), client), 'linked'), uuid);
  assert.equal(doneUuid(await runJob(bindJob('anna', { employeeUuid: uuid }), client), 'linked'), uuid);
  assert.equal(creates() - before, 1);
});

test('MitID Erhverv Local IdM idempotency: a create whose answer is lost (effect made, then timeout) is retried without a second employee', async () => {
  const before = creates();
  h.server.fail({ method: 'POST', path: /identity\/employee$/, times: 1, fault: { kind: 'hang-after-effect' } });
  const first = await runJob(bindJob('bo'), client);
  assert.equal(first.status, 'retry');
  assert.ok(first.status === 'retry' && first.code === 'IDM_TIMEOUT');
  assert.equal(creates() - before, 1, 'the employee was made although the answer never came');
  const uuid = doneUuid(await runJob(bindJob('bo'), client), 'linked');
  assert.equal(creates() - before, 1, 'exactly one employee');
  assert.equal([...h.server.employees.values()].filter((e) => e.authenticators.some((a) => a.id === 'ext-bo')).length, 1);
  assert.ok(h.server.employees.has(uuid));
});

test('MitID Erhverv Local IdM: 409 on create means an account exists: the one carrying our subject name id is linked, not duplicated', async () => {
  // Made by hand in MitID Erhverv under an older email, so the quick search by email misses it.
  const existing = h.server.seed({ emailAddress: 'carl.old@demo.example', subjectNameId: 'ext-carl' });
  const before = creates();
  assert.equal(doneUuid(await runJob(bindJob('carl'), client), 'linked'), existing.uuid);
  assert.equal(creates(), before);
  assert.equal(h.server.callsTo('POST', /identity\/employee$/).at(-1)?.status, 409);
});

test('MitID Erhverv Local IdM: a 409 that no account with our subject name id explains fails with a reason for a person (never a blind retry)', async () => {
  h.server.seed({ emailAddress: 'dora@elsewhere.example', rid: '778899' });
  const o = await runJob(bindJob('dora', { rid: '778899' }), client);
  assert.equal(o.status, 'failed');
  assert.ok(o.status === 'failed' && o.code === 'CONFLICT_UNRESOLVED' && o.reason.includes('ext-dora'));
});

test('Outcome classes: a 500 or 429 is retry (with Retry-After), a 400 is failed; the next attempt after the 500 succeeds', async () => {
  h.server.fail({ method: 'POST', path: /identity\/employee$/, times: 1, fault: { kind: 'status', status: 500 } });
  const o1 = await runJob(bindJob('erik'), client);
  assert.deepEqual(o1.status === 'retry' ? [o1.code, o1.retryAfterSeconds] : o1, ['IDM_SERVER_ERROR', null]);
  doneUuid(await runJob(bindJob('erik'), client), 'created');
  h.server.fail({ method: 'POST', path: /search$/, times: 1, fault: { kind: 'status', status: 429, retryAfter: '90' } });
  const o2 = await runJob(bindJob('frida'), client);
  assert.deepEqual(o2.status === 'retry' ? [o2.code, o2.retryAfterSeconds] : o2, ['IDM_RATE_LIMITED', 90]);
  h.server.fail({ method: 'POST', path: /identity\/employee$/, times: 1, fault: { kind: 'status', status: 400 } });
  const o3 = await runJob(bindJob('frida'), client);
  assert.equal(o3.status === 'failed' ? o3.code : o3.status, 'IDM_REJECTED');
});

test('NSIS 3.2.3: suspend-person and reactivate-person; a repeat finds the state in place and is done; effects happen once', async () => {
  const uuid = doneUuid(await runJob(bindJob('gustav'), client), 'created');
  assert.equal(doneUuid(await runJob(followUp('suspend-person', 'gustav', uuid), client), 'suspended'), uuid);
  assert.equal(doneUuid(await runJob(followUp('suspend-person', 'gustav', uuid), client), 'already-suspended'), uuid);
  assert.equal(h.server.employees.get(uuid)?.status, 'Suspended');
  assert.equal(doneUuid(await runJob(followUp('reactivate-person', 'gustav', uuid), client), 'reactivated'), uuid);
  assert.equal(doneUuid(await runJob(followUp('reactivate-person', 'gustav', uuid), client), 'already-active'), uuid);
  assert.equal(h.server.effects.filter((e) => e.uuid === uuid && e.kind === 'suspend').length, 1);
  assert.equal(h.server.effects.filter((e) => e.uuid === uuid && e.kind === 'reactivate').length, 1);
});

test('NSIS 3.2.3: a suspension whose answer is lost is done on the retry (the employee is already suspended), once', async () => {
  const uuid = doneUuid(await runJob(bindJob('hanne'), client), 'created');
  h.server.fail({ method: 'PUT', path: /suspend$/, times: 1, fault: { kind: 'hang-after-effect' } });
  assert.equal((await runJob(followUp('suspend-person', 'hanne', uuid), client)).status, 'retry');
  assert.equal(doneUuid(await runJob(followUp('suspend-person', 'hanne', uuid), client), 'already-suspended'), uuid);
  assert.equal(h.server.effects.filter((e) => e.uuid === uuid && e.kind === 'suspend').length, 1);
});

test('Jobs find the employee by subject name id when the uuid is unknown or stale; a person not there is done with nothing to change', async () => {
  const uuid = doneUuid(await runJob(bindJob('ida'), client), 'created');
  assert.equal(doneUuid(await runJob(followUp('suspend-person', 'ida', null), client), 'suspended'), uuid);
  // The employee was re-made (new uuid) behind our back: the stale uuid 404s, the search finds it.
  const e = h.server.employees.get(uuid);
  assert.ok(e);
  h.server.employees.delete(uuid);
  const remade = h.server.seed({ emailAddress: e.emailAddress, subjectNameId: 'ext-ida', status: 'Suspended' });
  assert.equal(doneUuid(await runJob(followUp('reactivate-person', 'ida', uuid), client), 'reactivated'), remade.uuid);
  const gone = await runJob(followUp('suspend-person', 'nobody', null), client);
  assert.deepEqual(gone, { status: 'done', note: 'not-there', employeeUuid: null });
});

test('NSIS 5.2 (Low) 3: end-binding deletes the employee; again (404) is done as already gone; both leave no employee uuid', async () => {
  const uuid = doneUuid(await runJob(bindJob('jens'), client), 'created');
  const o = await runJob(followUp('end-binding', 'jens', uuid), client);
  assert.deepEqual(o, { status: 'done', note: 'deleted', employeeUuid: null });
  assert.equal(h.server.employees.has(uuid), false);
  const again = await runJob(followUp('end-binding', 'jens', uuid), client);
  assert.deepEqual(again, { status: 'done', note: 'already-gone', employeeUuid: null });
  assert.equal(h.server.effects.filter((e) => e.uuid === uuid && e.kind === 'delete').length, 1);
});

test('Contact change: the email alone goes to profile/nonsensitive; a name change too goes to profile', async () => {
  const uuid = doneUuid(await runJob(bindJob('karen'), client), 'created');
  const base = { key: 'cc-1', personId: 'person-karen', subjectNameId: 'ext-karen', employeeUuid: uuid, email: 'karen@demo.example' };
  const profile = { givenName: 'Karen', surname: 'Jensen', email: 'karen.j@demo.example', ial: 'substantial' as const };
  doneUuid(await runJob({ kind: 'contact-change', ...base, profile, identifying: false }, client), 'updated');
  assert.equal(h.server.calls.at(-1)?.path, `/api/administration/identity/employee/${uuid}/profile/nonsensitive`);
  assert.equal(h.server.employees.get(uuid)?.emailAddress, 'karen.j@demo.example');
  doneUuid(await runJob({ kind: 'contact-change', ...base, key: 'cc-2', profile: { ...profile, surname: 'Holm' }, identifying: true }, client), 'updated');
  assert.equal(h.server.calls.at(-1)?.path, `/api/administration/identity/employee/${uuid}/profile`);
  assert.equal(h.server.employees.get(uuid)?.surname, 'Holm');
});

test('A token that expired during a job is renewed once and the job completes', async () => {
  const uuid = doneUuid(await runJob(bindJob('lars'), client), 'created');
  h.server.expireTokens();
  doneUuid(await runJob(followUp('suspend-person', 'lars', uuid), client), 'suspended');
});

test('Jobs are data: the stored form is checked with zod (kind, key, subject name id, uuid)', () => {
  assert.equal(idmJobSchema.safeParse({ ...followUp('end-binding', 'x', null), kind: 'delete-everyone' }).success, false);
  assert.equal(idmJobSchema.safeParse({ ...followUp('end-binding', 'x', null), subjectNameId: 'has space' }).success, false);
  assert.equal(idmJobSchema.safeParse({ ...followUp('end-binding', 'x', 'not-a-uuid') }).success, false);
  assert.equal(idmJobSchema.safeParse(followUp('end-binding', 'x', null)).success, true);
});

test('Backoff: exponential with jitter, capped; Retry-After is a floor; after the last attempt the job fails with its reason; done and failed end it', () => {
  const p = DEFAULT_BACKOFF;
  assert.deepEqual([1, 2, 3, 4].map((a) => retryDelaySeconds(p, a, () => 1)), [30, 60, 120, 240]);
  assert.equal(retryDelaySeconds(p, 1, () => 0), 24);
  assert.equal(retryDelaySeconds(p, 30, () => 1), 6 * 3600);
  assert.equal(retryDelaySeconds(p, 1, () => 0.5, 600), 600);
  assert.equal(retryDelaySeconds(p, 1, () => 0.5, 10 ** 9), 6 * 3600);
  const now = new Date('2026-01-05T08:00:00Z');
  const retry: JobOutcome = { status: 'retry', code: 'IDM_SERVER_ERROR', reason: 'HTTP 500', retryAfterSeconds: null };
  assert.deepEqual(nextStep(p, 1, retry, now, () => 1), { state: 'pending', attempts: 1, notBefore: new Date('2026-01-05T08:00:30Z'), lastError: 'IDM_SERVER_ERROR: HTTP 500' });
  assert.deepEqual(nextStep(p, p.maxAttempts, retry, now, () => 1), { state: 'failed', attempts: 20, reason: 'gave up after 20 attempts; last: IDM_SERVER_ERROR: HTTP 500' });
  assert.deepEqual(nextStep(p, 3, { status: 'failed', code: 'IDM_REJECTED', reason: 'HTTP 400' }, now, () => 1), { state: 'failed', attempts: 3, reason: 'IDM_REJECTED: HTTP 400' });
  assert.deepEqual(nextStep(p, 3, { status: 'done', note: 'created', employeeUuid: 'u' }, now, () => 1), { state: 'done' });
});
