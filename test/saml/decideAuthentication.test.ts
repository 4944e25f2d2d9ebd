/**
 * The authentication decision for a verified AuthnRequest, as a table:
 * ForceAuthn (opt out of SSO), IsPassive, the requested minimum level.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUTHENTICATION_TABLE, STATUS, checkAchievedLevel, decideAuthentication } from '../../server/saml/index.js';

test('NSIS 6 (Substantial) 8: ForceAuthn opts out of single sign-on: a fresh key touch even with a valid session', () => {
  assert.deepEqual(decideAuthentication({ forceAuthn: true, isPassive: false, session: { level: 'high' } }), { action: 'sign-in' });
  assert.deepEqual(decideAuthentication({ forceAuthn: true, isPassive: false, minimumLevel: 'substantial' }), { action: 'sign-in', minimumLevel: 'substantial' });
});

test('NSIS 6 (Low) 1: a token is issued from a valid session only when it meets the requested level; otherwise a sign-in (step up)', () => {
  assert.deepEqual(decideAuthentication({ forceAuthn: false, isPassive: false, session: { level: 'substantial' }, minimumLevel: 'substantial' }), { action: 'reuse-session' });
  assert.deepEqual(decideAuthentication({ forceAuthn: false, isPassive: false, session: { level: 'low' }, minimumLevel: 'substantial' }), { action: 'sign-in', minimumLevel: 'substantial' });
  assert.deepEqual(decideAuthentication({ forceAuthn: false, isPassive: false }), { action: 'sign-in' });
});

test('OIOSAML 3: IsPassive when a sign-in would be needed is answered NoPassive; ForceAuthn with IsPassive is refused', () => {
  assert.deepEqual(decideAuthentication({ forceAuthn: false, isPassive: true }), {
    action: 'refuse',
    status: { top: STATUS.responder, second: STATUS.noPassive },
    reason: 'a sign-in is needed',
  });
  assert.deepEqual(decideAuthentication({ forceAuthn: false, isPassive: true, session: { level: 'substantial' }, minimumLevel: 'substantial' }), { action: 'reuse-session' });
  assert.equal(decideAuthentication({ forceAuthn: false, isPassive: true, session: { level: 'low' }, minimumLevel: 'substantial' }).action, 'refuse');
  const both = decideAuthentication({ forceAuthn: true, isPassive: true, session: { level: 'high' } });
  assert.equal(both.action, 'refuse');
  assert.equal(AUTHENTICATION_TABLE.length, 5);
});

test('NSIS 6 (Low) 2: a sign-in below the requested level is answered NoAuthnContext, never a lower level', () => {
  assert.deepEqual(checkAchievedLevel('low', 'substantial'), { top: STATUS.responder, second: STATUS.noAuthnContext });
  assert.equal(checkAchievedLevel('high', 'substantial'), undefined);
  assert.equal(checkAchievedLevel('low', undefined), undefined);
});
