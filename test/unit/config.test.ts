import assert from 'node:assert/strict';
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
    assert.ok(Object.isFrozen(c));
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
