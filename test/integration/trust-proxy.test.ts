/**
 * Issue 13, "Abuse and races" 2: GATEWAY_TRUST_PROXY takes a hop count or the proxies' addresses,
 * never `true`. Here the test client plays a reverse proxy on 127.0.0.1 that appends the real
 * client's address (203.0.113.7) to whatever X-Forwarded-For the client sent. A forged
 * `X-Forwarded-For: 127.0.0.1` must not open /metrics (loopback only without a token), and a
 * rotating forged value must not give the client a fresh per-IP budget.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, field } from '../support/apiClient.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

const REAL_CLIENT = '203.0.113.7';
const IP_LIMIT = 5;

/** What a proxy sends on: the client's own (forged) header, then the address it saw. */
const viaProxy = (forged: string | undefined): Record<string, string> => ({ 'x-forwarded-for': forged ? `${forged}, ${REAL_CLIENT}` : REAL_CLIENT });

for (const setting of ['1', 'loopback', '127.0.0.1/32']) {
  describe(`GATEWAY_TRUST_PROXY=${setting}: the address the nearest proxy saw counts, not what the client wrote (issue 13, 2)`, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway({ env: { GATEWAY_TRUST_PROXY: setting, GATEWAY_RATE_LIMIT_IP_PER_MINUTE: String(IP_LIMIT) } });
    });
    after(async () => {
      await gw?.close();
    });

    it('NSIS 4.1.6 (Low) 1: a forged X-Forwarded-For: 127.0.0.1 from an outside client does not open /metrics (403 FORBIDDEN); the proxy host itself still scrapes', async () => {
      for (const forged of ['127.0.0.1', '::1', '127.0.0.1, 127.0.0.1']) {
        const res = await fetch(`${gw.origin}/metrics`, { headers: viaProxy(forged) });
        assert.equal(res.status, 403, `forged ${forged}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(field((await res.json()) as unknown, 'code'), 'FORBIDDEN');
      }
      assert.equal((await fetch(`${gw.origin}/metrics`)).status, 200, 'a direct loopback scrape');
    });

    it('OWASP ASVS V2.2.1: rotating a forged X-Forwarded-For does not pass the per-IP limit (429 RATE_LIMITED); another real client has its own budget', async () => {
      const c = new ApiClient(gw.origin);
      const statuses: number[] = [];
      for (let i = 0; i < IP_LIMIT + 3; i++) {
        const res = await c.post('/api/signin/options', {}, viaProxy(`10.${i}.${i}.${i}`));
        statuses.push(res.status);
        if (res.status === 429) assert.equal(res.code, 'RATE_LIMITED');
      }
      assert.deepEqual(statuses, [...Array<number>(IP_LIMIT).fill(200), 429, 429, 429]);
      const other = await c.post('/api/signin/options', {}, { 'x-forwarded-for': '198.51.100.20' });
      assert.equal(other.status, 200, 'another client behind the proxy');
    });
  });
}
