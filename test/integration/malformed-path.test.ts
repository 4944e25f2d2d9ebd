/**
 * Issue 13, "Abuse and races" 7: a path whose percent-escapes do not decode (a truncated UTF-8
 * sequence such as `%E0%A4%A`) is bad input, answered 400 problem+json MALFORMED_PATH with no
 * error-level log line and no stack trace, wherever it lands: an API route with a parameter, an
 * OpenID Connect path, a static file of the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/logger.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

interface LogLine {
  level: number;
  msg?: string;
  err?: { stack?: string };
}

describe('malformed percent-escapes in a path (issue 13, 7)', () => {
  let gw: TestGateway;
  const lines: string[] = [];
  before(async () => {
    const capture = { write: (s: string) => void lines.push(s) };
    gw = await startTestGateway({ log: createLogger('debug', capture), withClient: true });
  });
  after(async () => {
    await gw?.close();
  });

  const logged = (): LogLine[] => lines.map((l) => JSON.parse(l) as LogLine);

  it('RFC 9457 edge: /api/me/credentials/%E0%A4%A/history answers 400 problem+json MALFORMED_PATH, with no error-level log and no stack trace', async () => {
    const admin = await activeAdmin(gw);
    const mark = lines.length;
    const res = await admin.client.get('/api/me/credentials/%E0%A4%A/history');
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(res.code, 'MALFORMED_PATH');
    assert.equal(field(res.body, 'status'), 400);
    assert.doesNotMatch(JSON.stringify(res.body), /URIError|at .*\.js|stack/i);
    const after = logged().slice(mark);
    assert.deepEqual(after.filter((l) => l.level >= 50), [], 'an error-level line was logged');
    assert.ok(after.every((l) => l.err?.stack === undefined), 'a stack trace was logged');
  });

  it('RFC 9457 edge: a malformed escape on an unauthenticated API path, an OIDC path and a static path is 400 MALFORMED_PATH too', async () => {
    const mark = lines.length;
    const c = new ApiClient(gw.origin);
    for (const p of ['/api/helpdesk/identities/%E0%A4%A', '/api/%FF', '/oidc/authorize/%E0%A4%A', '/%E0%A4%A.html', '/assets/%C3']) {
      const res = await c.get(p);
      assert.equal(res.status, 400, `${p}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.code, 'MALFORMED_PATH', p);
    }
    assert.deepEqual(logged().slice(mark).filter((l) => l.level >= 50), []);
  });
});
