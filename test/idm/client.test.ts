/**
 * The IdM API client against the contract server: mutual TLS with the organisation's PKCS#12
 * system certificate, the token and its renewal, the shape of each call, and the classification
 * of every failure into retryable and permanent.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../server/config.js';
import { type IdmErrorCode, IdmError, connectIdm, loadIdmConfig, loadIdmCredentials } from '../../server/idm/index.js';
import { startIdmContractServer } from '../support/idmContractServer.js';
import { INVOICE_METHOD, type IdmHarness, startIdm } from '../support/idmHarness.js';

let h: IdmHarness;
before(async () => {
  h = await startIdm();
});
after(async () => h.close());

const ALICE = { givenName: 'Alice', surname: 'Andersen', email: 'alice@demo.example', ial: 'substantial' as const, subjectNameId: 'ext-alice', rid: null };

async function rejects(p: Promise<unknown>, code: IdmErrorCode, retryable: boolean): Promise<IdmError> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof IdmError, String(caught));
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.retryable, retryable);
  return caught;
}

test('MitID Erhverv Local IdM: the API is reached only with mutual TLS: no certificate, or one of another CA, is refused in the handshake', async () => {
  const before = h.server.calls.length;
  // No client certificate at all: a plain HTTPS request that trusts the server.
  const noCert = await new Promise<string>((resolve) => {
    const req = https.request(`${h.server.url}/api/administration/idmlogin/tls/authenticate`, { method: 'POST', ca: h.pki.caPem }, (res) => resolve(`answered ${res.statusCode}`));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    req.end();
  });
  assert.match(noCert, /^(ECONNRESET|ERR_SSL_.*|EPIPE)$/);
  // A certificate of another CA: TLS 1.3 reports the refusal as an alert or as a reset.
  let caught: unknown;
  await h.client({ credentials: h.pki.foreign }).searchEmployees().catch((err: unknown) => {
    caught = err;
  });
  assert.ok(caught instanceof IdmError, String(caught));
  assert.ok(caught.code === 'IDM_TLS' || caught.code === 'IDM_CONNECTION', caught.code);
  assert.equal(caught.retryable, true);
  assert.equal(h.server.calls.length, before, 'no request reached the API');
});

test('NSIS 4.1.6: the server certificate is verified: a server whose certificate no trusted CA issued gets IDM_TLS (retryable) and no request', async () => {
  const stranger = await startIdmContractServer(h.pki, h.pki.strangerServer);
  try {
    const config = loadIdmConfig({ ...h.env(), GATEWAY_IDM_BASE_URL: stranger.url }, '/');
    assert.ok(config.enabled);
    const c = connectIdm(config, h.clock);
    await rejects(c.searchEmployees(), 'IDM_TLS', true);
    c.close();
    assert.equal(stranger.calls.length, 0);
  } finally {
    await stranger.close();
  }
});

test('IdM token: one authenticate (mTLS, no body), then Bearer on every call; concurrent callers share it; renewed before expiry', async () => {
  const c = h.client();
  const auth = () => h.server.callsTo('POST', /idmlogin\/tls\/authenticate$/).length;
  const start = auth();
  await Promise.all([c.searchEmployees(), c.searchEmployees(), c.searchEmployees()]);
  assert.equal(auth() - start, 1);
  const searches = h.server.callsTo('POST', /employee\/search$/).slice(-3);
  assert.equal(new Set(searches.map((s) => s.bearer)).size, 1);
  assert.equal(h.server.callsTo('POST', /idmlogin\/tls\/authenticate$/).at(-1)?.body, null);
  assert.equal(h.server.callsTo('POST', /idmlogin\/tls\/authenticate$/).at(-1)?.clientCertSubjectCn, 'Gateway IdM integration');
  // expiresIn is 3600 s: a tenth (6 min) before, the client renews before calling.
  h.clock.advance(53 * 60_000);
  await c.searchEmployees();
  assert.equal(auth() - start, 1);
  h.clock.advance(2 * 60_000);
  await c.searchEmployees();
  assert.equal(auth() - start, 2);
  assert.equal(h.server.calls.filter((x) => x.status === 401).length, 0, 'no call was made with an expiring token');
  assert.ok(c.status().token.validUntil);
});

test('IdM token: a 401 gets one fresh token and one retry; a second 401 is IDM_UNAUTHORIZED and permanent', async () => {
  const c = h.client();
  await c.searchEmployees();
  h.server.expireTokens();
  const auth = h.server.callsTo('POST', /authenticate$/).length;
  await c.searchEmployees();
  assert.equal(h.server.callsTo('POST', /authenticate$/).length, auth + 1);
  const last = h.server.calls.slice(-3).map((x) => [x.method, x.status]);
  assert.deepEqual(last, [['POST', 401], ['POST', 200], ['POST', 200]]);
  h.server.fail({ method: 'POST', path: /employee\/search$/, times: 2, fault: { kind: 'status', status: 401 } });
  await rejects(c.searchEmployees(), 'IDM_UNAUTHORIZED', false);
  h.server.fail({ method: 'POST', path: /authenticate$/, times: 1, fault: { kind: 'status', status: 403 } });
  h.server.expireTokens();
  await rejects(h.client().searchEmployees(), 'IDM_UNAUTHORIZED', false);
});

test('IdM calls have the documented shapes: create with identityProfile, invoice method and the LocalIdentityProvider authenticator; profile, email, suspend, reactivate, delete, search, authenticators', async () => {
  const c = h.client();
  const uuid = await c.createEmployee({ ...ALICE, rid: '12345' });
  const create = h.server.callsTo('POST', /identity\/employee$/).at(-1);
  assert.deepEqual(create?.body, {
    identityProfile: { status: 'Active', registeredIal: 'Substantial', targetIal: 'Substantial', givenName: 'Alice', surname: 'Andersen', emailAddress: 'alice@demo.example', rid: '12345' },
    identityOrganizationProfile: { invoiceMethodUuid: INVOICE_METHOD },
    identityAuthenticators: { authenticatorTypes: ['LocalIdentityProvider'], subjectNameId: 'ext-alice' },
  });
  assert.deepEqual(await c.listAuthenticators(uuid), [{ uuid: h.server.employees.get(uuid)?.authenticators[0]?.uuid, type: 'LocalIdentityProvider', status: 'Active', id: 'ext-alice' }]);
  await c.updateProfile(uuid, { givenName: 'Alice B.', surname: 'Andersen', email: 'ab@demo.example', ial: 'high' });
  assert.deepEqual(h.server.calls.at(-1)?.body, { registeredIal: 'High', targetIal: 'High', givenName: 'Alice B.', surname: 'Andersen', emailAddress: 'ab@demo.example' });
  await c.updateEmail(uuid, 'alice.b@demo.example');
  assert.deepEqual([h.server.calls.at(-1)?.method, h.server.calls.at(-1)?.path, h.server.calls.at(-1)?.body], ['PUT', `/api/administration/identity/employee/${uuid}/profile/nonsensitive`, { emailAddress: 'alice.b@demo.example' }]);
  await c.suspend(uuid);
  assert.deepEqual([h.server.calls.at(-1)?.method, h.server.calls.at(-1)?.path, h.server.calls.at(-1)?.body], ['PUT', `/api/administration/identity/employee/${uuid}/suspend`, null]);
  assert.equal((await c.getEmployee(uuid))?.identityProfile.status, 'Suspended');
  await c.reactivate(uuid);
  assert.equal(h.server.calls.at(-1)?.path, `/api/administration/identity/employee/${uuid}/reactivate`);
  assert.ok((await c.searchEmployees()).some((e) => e.uuid === uuid && e.status === 'Active'));
  assert.deepEqual(h.server.callsTo('POST', /search$/).at(-1)?.body, { maxCount: 0, removeUuidFromResultSet: false });
  assert.equal(await c.deleteEmployee(uuid), 'deleted');
  assert.equal(h.server.calls.at(-1)?.method, 'DELETE');
  assert.equal(h.server.calls.filter((x) => x.status === 400).length, 0, 'the contract server refused no shape');
});

test('IdM: 404 on delete means already gone (done); GET of an unknown employee is null; data that does not fit is not sent', async () => {
  const c = h.client();
  assert.equal(await c.deleteEmployee('00000000-0000-4000-8000-000000000001'), 'already-gone');
  assert.equal(await c.getEmployee('00000000-0000-4000-8000-000000000001'), null);
  await rejects(c.suspend('00000000-0000-4000-8000-000000000001'), 'IDM_NOT_FOUND', false);
  const before = h.server.calls.length;
  await rejects(c.createEmployee({ ...ALICE, surname: ' ' }), 'IDM_INVALID_REQUEST', false);
  await rejects(c.createEmployee({ ...ALICE, subjectNameId: 'has space' }), 'IDM_INVALID_REQUEST', false);
  assert.equal(h.server.calls.length, before);
});

test('IdM failures: 5xx, 408, 429, timeouts, resets and TLS are retryable; other 4xx and broken answers are permanent; Retry-After is kept', async () => {
  const c = h.client({ timeoutMs: 1500 });
  await c.searchEmployees();
  const search = (fault: Parameters<typeof h.server.fail>[0]['fault']) => {
    h.server.fail({ method: 'POST', path: /search$/, times: 1, fault });
    return c.searchEmployees();
  };
  await rejects(search({ kind: 'status', status: 500 }), 'IDM_SERVER_ERROR', true);
  assert.equal((await rejects(search({ kind: 'status', status: 503, retryAfter: '7' }), 'IDM_SERVER_ERROR', true)).retryAfterSeconds, 7);
  assert.equal((await rejects(search({ kind: 'status', status: 429, retryAfter: '120' }), 'IDM_RATE_LIMITED', true)).retryAfterSeconds, 120);
  await rejects(search({ kind: 'status', status: 408 }), 'IDM_TIMEOUT', true);
  await rejects(search({ kind: 'status', status: 400 }), 'IDM_REJECTED', false);
  await rejects(search({ kind: 'status', status: 403 }), 'IDM_REJECTED', false);
  await rejects(search({ kind: 'status', status: 409 }), 'IDM_CONFLICT', false);
  await rejects(search({ kind: 'bad-json' }), 'IDM_BAD_RESPONSE', false);
  await rejects(search({ kind: 'reset' }), 'IDM_CONNECTION', true);
  await rejects(search({ kind: 'hang' }), 'IDM_TIMEOUT', true);
  // And the client is still usable afterwards.
  assert.ok(Array.isArray(await c.searchEmployees()));
});

test('MitID Erhverv Local IdM: the PKCS#12 file and its password file must be 0600; a wrong password stops the start naming the key; no base URL means sync off', () => {
  const copy = (from: string, name: string, mode: number) => {
    const to = path.join(h.pki.dir, name);
    fs.copyFileSync(from, to);
    fs.chmodSync(to, mode);
    return to;
  };
  const wide = copy(h.pki.client.pkcs12File, 'wide.p12', 0o644);
  const widePass = copy(h.pki.client.passwordFile, 'wide.pass', 0o640);
  const wrongPass = path.join(h.pki.dir, 'wrong.pass');
  fs.writeFileSync(wrongPass, 'not-the-password', { mode: 0o600 });
  const key = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.key;
    }
    return 'no error';
  };
  assert.equal(key(() => loadIdmCredentials({ pkcs12File: wide, passwordFile: h.pki.client.passwordFile })), 'GATEWAY_IDM_PKCS12_FILE');
  assert.equal(key(() => loadIdmCredentials({ pkcs12File: h.pki.client.pkcs12File, passwordFile: widePass })), 'GATEWAY_IDM_PKCS12_PASSWORD_FILE');
  assert.equal(key(() => loadIdmCredentials({ pkcs12File: h.pki.client.pkcs12File, passwordFile: wrongPass })), 'GATEWAY_IDM_PKCS12_FILE');
  assert.equal(key(() => loadIdmCredentials({ pkcs12File: path.join(h.pki.dir, 'missing.p12'), passwordFile: wrongPass })), 'GATEWAY_IDM_PKCS12_FILE');
  assert.ok(loadIdmCredentials({ ...h.pki.client, caFile: h.pki.caPemFile }).pfx.length > 0);
  const off = loadIdmConfig({}, '/');
  assert.equal(off.enabled, false);
  assert.match(off.enabled ? '' : off.reason, /GATEWAY_IDM_BASE_URL/);
  assert.equal(key(() => loadIdmConfig({ ...h.env(), GATEWAY_IDM_BASE_URL: 'http://idm.example' }, '/')), 'GATEWAY_IDM_BASE_URL');
  assert.equal(key(() => loadIdmConfig({ ...h.env(), GATEWAY_IDM_INVOICE_METHOD_UUID: '' }, '/')), 'GATEWAY_IDM_INVOICE_METHOD_UUID');
  assert.equal(key(() => loadIdmConfig({ ...h.env(), GATEWAY_IDM_PKCS12_FILE: '' }, '/')), 'GATEWAY_IDM_PKCS12_FILE');
  assert.equal(key(() => loadIdmConfig({ ...h.env(), GATEWAY_IDM_CREATE_STATUS: 'Draft' }, '/')), 'GATEWAY_IDM_CREATE_STATUS');
  assert.equal(key(() => loadIdmConfig({ ...h.env(), GATEWAY_IDM_SUBJECT_NAME_ID_SOURCES: 'cpr' }, '/')), 'GATEWAY_IDM_SUBJECT_NAME_ID_SOURCES');
});
