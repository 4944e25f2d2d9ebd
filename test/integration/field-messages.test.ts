/**
 * Issue 16: the field messages of a refused form (VALIDATION_FAILED `errors`) are in the request's
 * language, from the catalogues; each field's `path` and `code` (the schema check that failed)
 * are the same in every language. A real gateway over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CATALOGUES, type Language } from '../../i18n/index.js';
import { ApiClient, field, obj, type ApiResponse } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { REASON_CODES } from '../../server/domain/types.js';

interface FieldError {
  path: string;
  code: string;
  message: string;
}

function fieldErrors(res: ApiResponse): FieldError[] {
  const errors = field<unknown>(res.body, 'errors');
  assert.ok(Array.isArray(errors), `errors is a list: ${JSON.stringify(res.body)}`);
  return errors.map((e) => {
    const o = obj(e);
    return { path: String(o['path']), code: String(o['code']), message: String(o['message']) };
  });
}

describe('issue 16: field messages of a refused form in the request’s language', { timeout: 300_000 }, () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway({ env: { GATEWAY_DEFAULT_LANGUAGE: 'da' } });
  });
  after(async () => {
    await gw.close();
  });

  /** A bad enrolment body: a missing token and response, a label too long, a field that is not known. */
  async function badEnrolment(language: Language): Promise<FieldError[]> {
    const c = new ApiClient(gw.origin);
    c.setCookie('gw_lang', language);
    const res = await c.post('/api/enrolment/verify', { label: 'x'.repeat(201), isAdmin: true });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.code, 'VALIDATION_FAILED');
    assert.equal(res.headers.get('content-language'), language);
    return fieldErrors(res);
  }

  it('issue 16: a refused body with gw_lang=da has Danish field messages, with gw_lang=en English ones; path and code unchanged', async () => {
    const da = await badEnrolment('da');
    const en = await badEnrolment('en');
    const expected = (l: Language) => [
      { path: 'isAdmin', code: 'unrecognized_keys', message: CATALOGUES[l]['validation.unknownField'] },
      { path: 'label', code: 'too_big', message: CATALOGUES[l]['validation.string.max.other'].replace('{maximum}', '200') },
      { path: 'response', code: 'invalid_type', message: CATALOGUES[l]['validation.required'] },
      { path: 'token', code: 'invalid_type', message: CATALOGUES[l]['validation.required'] },
    ];
    const sorted = (list: FieldError[]) => [...list].sort((a, b) => a.path.localeCompare(b.path));
    assert.deepEqual(sorted(da), expected('da'));
    assert.deepEqual(sorted(en), expected('en'));
    assert.equal(CATALOGUES.da['validation.required'], 'skal udfyldes');
    assert.equal(CATALOGUES.en['validation.required'], 'is required');
  });

  it('issue 16: an email, an enum value and a query parameter are refused in Danish with the allowed values named', async () => {
    const c = new ApiClient(gw.origin);
    c.setCookie('gw_lang', 'da');
    const email = await c.post('/api/signin/options', { email: 'not-an-address' });
    assert.equal(email.status, 400);
    assert.equal(email.code, 'VALIDATION_FAILED');
    assert.deepEqual(fieldErrors(email), [{ path: 'email', code: 'invalid_format', message: 'skal være en e-mailadresse' }]);
    const english = new ApiClient(gw.origin);
    english.setCookie('gw_lang', 'en');
    const again = await english.post('/api/signin/options', { email: 'not-an-address' });
    assert.equal(again.code, 'VALIDATION_FAILED');
    assert.deepEqual(fieldErrors(again), [{ path: 'email', code: 'invalid_format', message: 'must be an email address' }]);
    // Behind a session: a reason that is not a reason code, and a list parameter that is not known.
    const admin = await activeAdmin(gw);
    admin.client.setCookie('gw_lang', 'da');
    const reason = await admin.client.post(`/api/helpdesk/credentials/${admin.keyId}/suspend`, { reason: 'because' });
    assert.equal(reason.status, 400);
    assert.equal(reason.code, 'VALIDATION_FAILED');
    assert.deepEqual(fieldErrors(reason), [{ path: 'reason', code: 'invalid_value', message: `skal være en af: ${REASON_CODES.join(', ')}` }]);
    const list = await admin.client.get('/api/helpdesk/lists/keys?colour=red');
    assert.equal(list.status, 400);
    assert.equal(list.code, 'VALIDATION_FAILED');
    assert.deepEqual(fieldErrors(list), [{ path: 'colour', code: 'unrecognized_keys', message: 'er ikke en kendt parameter' }]);
  });
});
