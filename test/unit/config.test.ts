import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../server/config.js';
import { isValidCvr } from '../../server/domain/cvr.js';

function failsOn(env: Record<string, string>, key: string): void {
  assert.throws(
    () => loadConfig(env, '/srv/gw'),
    (err: unknown) => err instanceof ConfigError && err.key === key && err.message.includes(key),
  );
}

describe('configuration is validated at start and names the bad key', () => {
  it('defaults are safe for a localhost demo and paths are anchored in var/', () => {
    const c = loadConfig({}, '/srv/gw');
    assert.equal(c.origin, 'http://localhost:3000');
    assert.equal(c.rpId, 'localhost');
    assert.equal(c.dbFile, '/srv/gw/var/gateway.db');
    assert.equal(c.secretFile, '/srv/gw/var/gateway-secret.key');
    assert.equal(c.challengeTtlSeconds, 120);
    assert.equal(c.secureCookies, false);
    // No scrape token by default: /metrics then answers loopback clients only.
    assert.equal(c.metricsToken, undefined);
    assert.ok(Object.isFrozen(c));
  });

  it('GATEWAY_WORKERS: one worker per CPU by default (at most 16), a count, or refused', () => {
    const cpus = Math.max(1, Math.min(16, os.availableParallelism()));
    assert.equal(loadConfig({}, '/srv/gw').workers, cpus);
    assert.equal(loadConfig({ GATEWAY_WORKERS: 'auto' }, '/srv/gw').workers, cpus);
    assert.equal(loadConfig({ GATEWAY_WORKERS: '1' }, '/srv/gw').workers, 1);
    assert.equal(loadConfig({ GATEWAY_WORKERS: '3' }, '/srv/gw').workers, 3);
    failsOn({ GATEWAY_WORKERS: '0' }, 'GATEWAY_WORKERS');
    failsOn({ GATEWAY_WORKERS: 'many' }, 'GATEWAY_WORKERS');
    failsOn({ GATEWAY_WORKERS: '65' }, 'GATEWAY_WORKERS');
  });

  it('each bad value is refused with its key', () => {
    failsOn({ GATEWAY_PORT: 'eighty' }, 'GATEWAY_PORT');
    failsOn({ GATEWAY_PORT: '70000' }, 'GATEWAY_PORT');
    failsOn({ GATEWAY_ORIGIN: 'not a url' }, 'GATEWAY_ORIGIN');
    failsOn({ GATEWAY_ORIGIN: 'https://idp.example.dk/path' }, 'GATEWAY_ORIGIN');
    failsOn({ GATEWAY_ORIGIN: 'http://idp.example.dk' }, 'GATEWAY_ORIGIN');
    failsOn({ GATEWAY_ORIGIN: 'https://idp.example.dk', GATEWAY_RP_ID: 'other.dk' }, 'GATEWAY_RP_ID');
    failsOn({ GATEWAY_CHALLENGE_TTL_SECONDS: '600' }, 'GATEWAY_CHALLENGE_TTL_SECONDS');
    failsOn({ GATEWAY_OUTBOX: 'pigeon' }, 'GATEWAY_OUTBOX');
    failsOn({ GATEWAY_OUTBOX: 'smtp' }, 'GATEWAY_SMTP_HOST');
    failsOn({ GATEWAY_OUTBOX: 'smtp', GATEWAY_SMTP_HOST: 'mail' }, 'GATEWAY_SMTP_FROM');
    failsOn({ GATEWAY_SMTP_SECURE: 'yes', GATEWAY_OUTBOX: 'smtp', GATEWAY_SMTP_HOST: 'm', GATEWAY_SMTP_FROM: 'a@b' }, 'GATEWAY_SMTP_SECURE');
    failsOn({ GATEWAY_DEMO_ORG_CVR: '12345678' }, 'GATEWAY_DEMO_ORG_CVR');
    failsOn({ GATEWAY_SESSION_IDLE_MINUTES: '60', GATEWAY_SESSION_ABSOLUTE_MINUTES: '30' }, 'GATEWAY_SESSION_ABSOLUTE_MINUTES');
    failsOn({ GATEWAY_LOG_LEVEL: 'loud' }, 'GATEWAY_LOG_LEVEL');
    failsOn({ GATEWAY_METRICS_TOKEN: 'too-short' }, 'GATEWAY_METRICS_TOKEN');
    failsOn({ GATEWAY_METRICS_TOKEN: `${'a'.repeat(40)} spaces` }, 'GATEWAY_METRICS_TOKEN');
  });

  it('rate limits on the ceremony endpoints: generous per IP, tight per account, raisable, 0 turns one off', () => {
    const d = loadConfig({}, '/srv/gw');
    assert.deepEqual(d.rateLimit, { ipPerMinute: 600, accountPerMinute: 20, accountSoftPerMinute: 10 });
    // The benchmark drives thousands of sign-ins a second from 127.0.0.1.
    const bench = loadConfig({ GATEWAY_RATE_LIMIT_IP_PER_MINUTE: '1000000', GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE: '0', GATEWAY_RATE_LIMIT_ACCOUNT_SOFT_PER_MINUTE: '0' }, '/srv/gw');
    assert.deepEqual(bench.rateLimit, { ipPerMinute: 1_000_000, accountPerMinute: 0, accountSoftPerMinute: 0 });
    failsOn({ GATEWAY_RATE_LIMIT_IP_PER_MINUTE: 'lots' }, 'GATEWAY_RATE_LIMIT_IP_PER_MINUTE');
    failsOn({ GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE: '-1' }, 'GATEWAY_RATE_LIMIT_ACCOUNT_PER_MINUTE');
    failsOn({ GATEWAY_RATE_LIMIT_ACCOUNT_SOFT_PER_MINUTE: 'some' }, 'GATEWAY_RATE_LIMIT_ACCOUNT_SOFT_PER_MINUTE');
  });

  it('an https origin turns on secure cookies and accepts a parent-domain RP ID', () => {
    const c = loadConfig({ GATEWAY_ORIGIN: 'https://idp.kommune.dk', GATEWAY_RP_ID: 'kommune.dk' }, '/srv/gw');
    assert.equal(c.secureCookies, true);
    assert.equal(c.rpId, 'kommune.dk');
  });

  it('NSIS 5.2 (Substantial) 10: the organisation is identified by a valid CVR number', () => {
    assert.equal(isValidCvr('12345674'), true);
    assert.equal(isValidCvr('12345678'), false);
    assert.equal(isValidCvr('01234567'), false);
    assert.equal(isValidCvr('1234567'), false);
  });
});

describe('GATEWAY_TRUST_PROXY and GATEWAY_DEVELOPMENT_MODE (issue 13, 2 and 9)', () => {
  it('GATEWAY_TRUST_PROXY: off by default, a hop count or the proxies\' addresses; `true` is refused with a message saying why and what to give instead', () => {
    assert.equal(loadConfig({}, '/srv/gw').trustProxy, false);
    assert.equal(loadConfig({ GATEWAY_TRUST_PROXY: 'false' }, '/srv/gw').trustProxy, false);
    assert.equal(loadConfig({ GATEWAY_TRUST_PROXY: '0' }, '/srv/gw').trustProxy, false);
    assert.equal(loadConfig({ GATEWAY_TRUST_PROXY: '1' }, '/srv/gw').trustProxy, 1);
    assert.equal(loadConfig({ GATEWAY_TRUST_PROXY: '2' }, '/srv/gw').trustProxy, 2);
    assert.deepEqual(loadConfig({ GATEWAY_TRUST_PROXY: 'loopback, 10.0.0.5,10.1.0.0/16 ,fd00::/8' }, '/srv/gw').trustProxy, ['loopback', '10.0.0.5', '10.1.0.0/16', 'fd00::/8']);
    assert.throws(
      () => loadConfig({ GATEWAY_TRUST_PROXY: 'true' }, '/srv/gw'),
      (err: unknown) => err instanceof ConfigError && err.key === 'GATEWAY_TRUST_PROXY' && /forge X-Forwarded-For/.test(err.message) && /number of reverse proxies/.test(err.message),
    );
    for (const bad of ['yes', '11', '10.0.0.0/33', 'fd00::/129', '10.0.0/8', 'proxy.example', 'loopback,*', ',']) failsOn({ GATEWAY_TRUST_PROXY: bad }, 'GATEWAY_TRUST_PROXY');
  });

  it('GATEWAY_DEVELOPMENT_MODE: on by default only for an http://localhost origin, off for https; refused on with an https origin', () => {
    assert.equal(loadConfig({}, '/srv/gw').developmentMode, true);
    assert.equal(loadConfig({ GATEWAY_DEVELOPMENT_MODE: 'false' }, '/srv/gw').developmentMode, false);
    assert.equal(loadConfig({ GATEWAY_ORIGIN: 'https://idp.example.dk' }, '/srv/gw').developmentMode, false);
    assert.equal(loadConfig({ GATEWAY_ORIGIN: 'https://localhost:8443' }, '/srv/gw').developmentMode, false);
    failsOn({ GATEWAY_ORIGIN: 'https://idp.example.dk', GATEWAY_DEVELOPMENT_MODE: 'true' }, 'GATEWAY_DEVELOPMENT_MODE');
    failsOn({ GATEWAY_DEVELOPMENT_MODE: 'maybe' }, 'GATEWAY_DEVELOPMENT_MODE');
  });
});
