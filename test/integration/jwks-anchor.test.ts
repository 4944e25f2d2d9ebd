/**
 * The public JWKS comes from the HSM, not from the database (issue 11, attack 6): a signing-key
 * row inserted into the database with the attacker's own key is not published, and an ID token
 * the attacker signs with that key (loa High) does not verify for a relying party using the JWKS.
 * Keys the HSM really holds (the active one, a pending successor) are published.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify, type JSONWebKeySet } from 'jose';
import { SYSTEM_ACTOR } from '../../server/domain/types.js';
import { dropTriggers, forgeKey, insertKeyRow } from '../support/auditTamper.js';
import { activeAdmin } from '../support/journeys.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { read } from '../support/storeReads.js';
import { createIdentity } from '../../server/flows/identities/createIdentity.js';
import { openSqlFile } from '../support/sqliteInspection.js';
import { sqliteOnly } from '../support/backend.js';

/** Why this runs on SQLite only (the PostgreSQL run reports it skipped with this reason). */
const SQLITE_ONLY =
  'the attacker inserts rows into the SQLite file with its triggers dropped (test/support/auditTamper.ts writes SQLite); the JWKS comes from the HSM on either engine';

async function jwks(gw: TestGateway): Promise<JSONWebKeySet> {
  const res = await fetch(`${gw.origin}/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  const body: unknown = await res.json();
  assert.ok(typeof body === 'object' && body !== null && 'keys' in body && Array.isArray(body.keys));
  return body as JSONWebKeySet;
}

describe('JWKS from the HSM, never from a database row (NSIS 6 (Low) 4; issue 11 attack 6)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ env: { GATEWAY_KEY_PROPAGATION_SECONDS: '3600' } });
    await activeAdmin(gw);
  });
  after(async () => {
    await gw.close();
  });

  it('NSIS 6 (Substantial) 11: a pending key the HSM holds (a rotation under two-person control) is published next to the active one', async () => {
    const keys = gw.runtime.keys;
    assert.ok(keys);
    const officer = await createIdentity(gw.runtime.flows, SYSTEM_ACTOR, {
      organisationId: gw.seed.admin.organisationId,
      name: 'Second Officer',
      email: 'officer2@demo.example',
      ial: 'substantial',
      proofingMethod: 'test',
      roles: ['security-officer'],
    });
    const { request: req } = await keys.request({ identityId: gw.seed.admin.id, role: 'security-officer' }, 'rotation', null, 'scheduled rotation');
    assert.ok(req, 'two officers: the request waits for the second');
    await keys.approve({ identityId: officer.id, role: 'security-officer' }, req.id);
    const [pending] = (await read(gw.runtime.store, (tx) => tx.signingKeys.inState('pending')));
    assert.ok(pending);
    const kids = (await jwks(gw)).keys.map((k) => k.kid);
    assert.deepEqual(kids.sort(), [(await read(gw.runtime.store, (tx) => tx.signingKeys.active()))?.kid, pending.kid].sort(), 'the active and the pending key are published');
  });

  it('NSIS 6 (Low) 4 (attack 6): a signing_keys row inserted into the database is not published at /.well-known/jwks.json, and an ID token forged with its key (loa High) does not verify', sqliteOnly(SQLITE_ONLY), async () => {
    const active = (await read(gw.runtime.store, (tx) => tx.signingKeys.active()));
    assert.ok(active);
    const genuine = (await read(gw.runtime.store, (tx) => tx.signingKeys.published(new Date().toISOString()))).map((k) => k.kid);
    const forged = forgeKey();
    const other = forgeKey();
    const db = openSqlFile(gw.runtime.config.dbFile);
    dropTriggers(db);
    insertKeyRow(db, forged, 'pending');
    insertKeyRow(db, other, 'retired'); // "still published" until 2999
    db.close();
    assert.equal((await read(gw.runtime.store, (tx) => tx.signingKeys.published(new Date().toISOString()))).length, genuine.length + 2, 'the database alone would publish both');

    const set = await jwks(gw);
    assert.deepEqual(
      set.keys.map((k) => k.kid).sort(),
      [...genuine].sort(),
      'only the keys the HSM holds',
    );
    assert.ok(!set.keys.some((k) => k.kid === forged.kid || k.kid === other.kid));

    const token = await new SignJWT({ loa: 'https://data.gov.dk/concept/core/nsis/loa/High', acr: 'https://data.gov.dk/concept/core/nsis/loa/High', nonce: 'n' })
      .setProtectedHeader({ alg: 'ES256', kid: forged.kid, typ: 'JWT' })
      .setIssuer(gw.origin)
      .setSubject(gw.seed.admin.id)
      .setAudience('payroll')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(forged.privateKey);
    await assert.rejects(jwtVerify(token, createLocalJWKSet(set), { issuer: gw.origin, audience: 'payroll' }), (err: unknown) => err instanceof Error && 'code' in err && err.code === 'ERR_JWKS_NO_MATCHING_KEY');
    // Not even with the public key taken from the forged row's JWK under the real key's kid.
    const withRealKid = await new SignJWT({ loa: 'https://data.gov.dk/concept/core/nsis/loa/High' })
      .setProtectedHeader({ alg: 'ES256', kid: active.kid })
      .setIssuer(gw.origin)
      .setAudience('payroll')
      .setExpirationTime('5m')
      .sign(forged.privateKey);
    await assert.rejects(jwtVerify(withRealKid, createLocalJWKSet(set), { issuer: gw.origin, audience: 'payroll' }), (err: unknown) => err instanceof Error && 'code' in err && err.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    // The published key is the HSM's: it verifies what the gateway signs.
    const keys = gw.runtime.keys;
    assert.ok(keys);
    const { jws } = await keys.signJws({ iss: gw.origin, aud: 'payroll', exp: Math.floor(Date.now() / 1000) + 60 });
    await jwtVerify(jws, createLocalJWKSet(set), { issuer: gw.origin, audience: 'payroll' });
    const [published] = set.keys;
    assert.ok(published);
    await importJWK(published, 'ES256');
  });
});
