/**
 * Who is told that a request waits for a second person (issue 16; NSIS 3.2.2 (High) 3, 5.2
 * (Substantial) 8): every bound person who may approve it by the duties rules, and nobody who may
 * not (the requester, a person the request is about, someone the requester set up). Exactly those
 * are offered "Approve" in the inbox (GET /api/approvals).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, field } from '../support/apiClient.js';
import { activate, activeAdmin, activeEmployee, enrol, signIn } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { auditEntries } from '../support/storeReads.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

interface Staff {
  client: ApiClient;
  auth: SoftAuthenticator;
  email: string;
  id: string;
}

describe('issue 16: the second person is told by mail that a request waits', () => {
  let gw: TestGateway;
  let first: Staff;
  let second: Staff;
  let third: Staff;

  /** An org-admin created by `by` (granted alone while fewer than two org-admins, else approved by `approver`). */
  async function orgAdmin(by: Staff, name: string, email: string, approver?: Staff): Promise<Staff> {
    const created = await by.client.post('/api/admin/identities', { name, email, ial: 'substantial', proofingMethod: 'ID checked by HR', roles: ['org-admin'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = field<string>(created.body, 'identity', 'id');
    const pending = field<{ id: string }[] | undefined>(created.body, 'roles');
    if (approver) {
      const list = await approver.client.get('/api/approvals');
      const waiting = field<{ id: string; subjects: string[]; state: string }[]>(list.body, 'approvals').find((a) => a.subjects.includes(id) && a.state === 'pending');
      assert.ok(waiting, `the grant waits (${JSON.stringify(pending)})`);
      assert.equal((await approver.client.post(`/api/approvals/${waiting.id}/approve`, {})).status, 200);
    }
    assert.equal((await by.client.post(`/api/admin/identities/${id}/enrolments`, {})).status, 201);
    const client = new ApiClient(gw.origin);
    const auth = new SoftAuthenticator();
    await enrol(gw, client, auth, await gw.latestEnrolmentLink(email));
    assert.equal((await activate(gw, client, auth, email)).status, 200);
    return { client, auth, email, id };
  }

  before(async () => {
    gw = await startTestGateway({ env: { GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000' } });
    const a = await activeAdmin(gw);
    first = { client: a.client, auth: a.auth, email: a.email, id: gw.seed.admin.id };
    // The second org-admin is set up by the first (bootstrap); the third by the second, approved by the first.
    second = await orgAdmin(first, 'Second Admin', 'second.admin@demo.example');
    third = await orgAdmin(second, 'Third Admin', 'third.admin@demo.example', first);
  });

  after(async () => {
    await gw?.close();
  });

  it('NSIS 3.2.2 (High) 3, 5.2 (Substantial) 8: a pending request is mailed to exactly the people the inbox offers "Approve" to; never to the requester, the person it is about or someone the requester set up', async () => {
    for (const s of [first, second, third]) assert.equal((await signIn(gw, s.client, s.auth, s.email)).status, 200);
    const emp = await activeEmployee(gw, first.client, 'told@demo.example', 'Tilde Told');
    const before = new Map<string, number>();
    for (const s of [first, second, third]) before.set(s.email, (await gw.mailsTo(s.email)).length);
    const beforeEmp = (await gw.mailsTo(emp.email)).length;

    // The first org-admin asks for a staff role for the employee. The second was set up by the
    // first (so may not approve); the third was set up by the second (so may).
    const asked = await first.client.post(`/api/admin/identities/${emp.identityId}/roles`, { role: 'helpdesk', grant: true });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const approvalId = field<string>(asked.body, 'approval', 'id');

    const newMails = async (s: Staff) => (await gw.mailsTo(s.email)).slice(before.get(s.email) ?? 0).map((m) => m.kind);
    assert.deepEqual(await newMails(third), ['approval-waiting'], 'the one person who may approve is asked');
    assert.deepEqual(await newMails(second), ['duty-requested'], 'an org-admin who may not approve is only told (the duty notice)');
    assert.deepEqual(await newMails(first), [], 'the requester is not asked');
    assert.deepEqual((await gw.mailsTo(emp.email)).slice(beforeEmp).map((m) => m.kind), [], 'the person it is about is not asked to approve');

    // The inbox offers Approve to exactly the people asked.
    const canApprove = async (s: Staff) => {
      const list = await s.client.get('/api/approvals');
      assert.equal(list.status, 200);
      return field<{ id: string; canApprove: boolean }[]>(list.body, 'approvals').find((a) => a.id === approvalId)?.canApprove;
    };
    assert.deepEqual([await canApprove(first), await canApprove(second), await canApprove(third)], [false, false, true]);

    const requested = (await auditEntries(gw.runtime.store)).find((e) => e.type === 'approval.requested' && e.subjectId === approvalId);
    assert.equal(requested?.data['approversTold'], 1);
  });

  it('issue 16: the summary of a request is in the reader’s language: the inbox in the page’s (gw_lang da or en), the mail to a Danish approver in Danish', async () => {
    for (const s of [first, second, third]) assert.equal((await signIn(gw, s.client, s.auth, s.email)).status, 200);
    const chosen = await third.client.post('/api/me/language', { language: 'da' });
    assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
    const emp = await activeEmployee(gw, first.client, 'sune.summary@demo.example', 'Sune Summary');
    const mailsBefore = (await gw.mailsTo(third.email)).length;

    const asked = await first.client.post(`/api/admin/identities/${emp.identityId}/roles`, { role: 'helpdesk', grant: true });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const approvalId = field<string>(asked.body, 'approval', 'id');

    const mails = (await gw.mailsTo(third.email)).slice(mailsBefore).filter((m) => m.kind === 'approval-waiting');
    assert.equal(mails.length, 1);
    assert.equal(mails[0]?.subject, 'Venter på din godkendelse: Tildel helpdesk til Sune Summary <sune.summary@demo.example>');
    assert.match(mails[0]?.text ?? '', /^Tildel helpdesk til Sune Summary <sune\.summary@demo\.example>$/m);

    const summaryIn = async (language: 'da' | 'en') => {
      second.client.setCookie('gw_lang', language);
      const list = await second.client.get('/api/approvals');
      assert.equal(list.status, 200);
      return field<{ id: string; summary: string; summaryLanguage: string }[]>(list.body, 'approvals').find((a) => a.id === approvalId);
    };
    const da = await summaryIn('da');
    assert.equal(da?.summary, 'Tildel helpdesk til Sune Summary <sune.summary@demo.example>');
    assert.equal(da?.summaryLanguage, 'da');
    const en = await summaryIn('en');
    assert.equal(en?.summary, 'Grant helpdesk to Sune Summary <sune.summary@demo.example>');
    assert.equal(en?.summaryLanguage, 'en');

    // The console's list of open approvals tells it the same way.
    const listedIn = async (language: 'da' | 'en') => {
      second.client.setCookie('gw_lang', language);
      const list = await second.client.get('/api/admin/lists/approvals');
      assert.equal(list.status, 200);
      return field<{ id: string; summary: string; summaryLanguage: string }[]>(list.body, 'items').find((a) => a.id === approvalId);
    };
    const listedDa = await listedIn('da');
    assert.equal(listedDa?.summary, 'Tildel helpdesk til Sune Summary <sune.summary@demo.example>');
    assert.equal(listedDa?.summaryLanguage, 'da');
    const listedEn = await listedIn('en');
    assert.equal(listedEn?.summary, 'Grant helpdesk to Sune Summary <sune.summary@demo.example>');
    second.client.dropCookie('gw_lang');
  });
});
