/**
 * The OpenID Provider's pure decisions, case by case: prompt and response_mode (OIDC Core
 * §3.1.2.1, Form Post Response Mode), auth-scheme parsing (RFC 7235 §2.1), the client assertion
 * audience (RFC 7523bis) and the logout confirmation token (RP-Initiated Logout §2).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parsePrompt, parseResponseMode } from '../../server/oidc/authorizationParameters.js';
import { credentialsFor } from '../../server/oidc/authScheme.js';
import { assertionAudienceAccepted } from '../../server/oidc/clientAuthentication.js';
import { confirmationHolds, confirmationToken } from '../../server/oidc/logout.js';

describe('OpenID Provider rules', () => {
  it('OIDC Core 3.1.2.1: prompt is a space-separated set; login and select_account need a fresh sign-in, consent is implicit, none stands alone', () => {
    const ok = (raw: string | undefined) => {
      const d = parsePrompt(raw);
      assert.ok(d.ok, `${raw} is accepted`);
      return { prompts: d.prompts, none: d.none, fresh: d.freshSignIn };
    };
    assert.deepEqual(ok(undefined), { prompts: [], none: false, fresh: false });
    assert.deepEqual(ok(''), { prompts: [], none: false, fresh: false });
    assert.deepEqual(ok('none'), { prompts: ['none'], none: true, fresh: false });
    assert.deepEqual(ok('login'), { prompts: ['login'], none: false, fresh: true });
    assert.deepEqual(ok('consent'), { prompts: ['consent'], none: false, fresh: false });
    assert.deepEqual(ok('select_account'), { prompts: ['select_account'], none: false, fresh: true });
    assert.deepEqual(ok('consent  login consent'), { prompts: ['consent', 'login'], none: false, fresh: true });
    for (const bad of ['none login', 'consent none', 'LOGIN', 'always', 'login,consent']) assert.equal(parsePrompt(bad).ok, false, bad);
  });

  it('OAuth 2.0 Form Post Response Mode: query (the default) and form_post are answered; fragment and anything else are not', () => {
    assert.equal(parseResponseMode(undefined), 'query');
    assert.equal(parseResponseMode('query'), 'query');
    assert.equal(parseResponseMode('form_post'), 'form_post');
    for (const bad of ['fragment', 'FORM_POST', 'query.jwt', '']) assert.equal(parseResponseMode(bad), undefined, bad);
  });

  it('RFC 7235 §2.1: the auth-scheme is case-insensitive and separated by one or more spaces', () => {
    assert.equal(credentialsFor('Basic abc=', 'basic'), 'abc=');
    assert.equal(credentialsFor('basic abc=', 'basic'), 'abc=');
    assert.equal(credentialsFor('BASIC   abc=', 'basic'), 'abc=');
    assert.equal(credentialsFor('bEaReR tok.en-_~+/', 'bearer'), 'tok.en-_~+/');
    assert.equal(credentialsFor('Bearer abc', 'basic'), undefined);
    assert.equal(credentialsFor('Basicabc', 'basic'), undefined);
    assert.equal(credentialsFor('Basic ', 'basic'), undefined);
    assert.equal(credentialsFor(undefined, 'bearer'), undefined);
  });

  it('RFC 7523bis: a client assertion is for this server only when aud is one string, the issuer or the token endpoint', () => {
    const issuer = 'https://idp.example';
    assert.equal(assertionAudienceAccepted(issuer, issuer), true);
    assert.equal(assertionAudienceAccepted(`${issuer}/oidc/token`, issuer), true);
    for (const bad of [[issuer], [issuer, 'https://other.example'], `${issuer}/`, 'https://other.example', undefined, 42]) {
      assert.equal(assertionAudienceAccepted(bad, issuer), false, JSON.stringify(bad));
    }
  });

  it('RP-Initiated Logout 1.0 §2 (NSIS 6 (Low) 6): a logout confirmation holds only for its session, with the gateway key, for 10 minutes', () => {
    const key = randomBytes(32);
    const session = 'a'.repeat(64);
    const at = new Date('2025-01-01T10:00:00Z');
    const token = confirmationToken(key, session, at);
    const later = (s: number) => new Date(at.getTime() + s * 1000);
    assert.equal(confirmationHolds(key, session, token, at), true);
    assert.equal(confirmationHolds(key, session, token, later(600)), true);
    assert.equal(confirmationHolds(key, session, token, later(601)), false, 'expired');
    assert.equal(confirmationHolds(key, session, token, later(-60)), false, 'not yet issued');
    assert.equal(confirmationHolds(key, 'b'.repeat(64), token, at), false, 'another session');
    assert.equal(confirmationHolds(randomBytes(32), session, token, at), false, 'another key');
    const [iat, mac] = token.split('.');
    assert.equal(confirmationHolds(key, session, `${Number(iat) + 60}.${mac}`, later(60)), false, 'a moved issue time');
    assert.equal(confirmationHolds(key, session, 'yes', at), false);
  });
});
