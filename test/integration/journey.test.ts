import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { field } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

describe('security-key journey over the HTTP API', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.close();
  });

  it('NSIS 3.2.2: the first administrator enrols, activates with the second-channel code and signs in', async () => {
    const admin = await activeAdmin(gw);
    const me = await admin.client.get('/api/me');
    assert.equal(me.status, 200);
    assert.deepEqual(field<string[]>(me.body, 'identity', 'roles').sort(), ['employee', 'helpdesk', 'org-admin', 'security-officer']);
    const res = await signIn(gw, admin.client, admin.auth, admin.email);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const employee = await activeEmployee(gw, admin.client, 'anna@demo.example', 'Anna');
    const keys = await employee.client.get('/api/me/credentials');
    assert.equal(field<unknown[]>(keys.body, 'credentials').length, 1);
    assert.equal(field(keys.body, 'credentials', '0', 'state'), 'active');
  });
});
