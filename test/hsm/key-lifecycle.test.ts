/**
 * The gateway's signing-key life cycle (server/keys/KeyManager.ts, real SQLite, real token) on
 * both PKCS#11 implementations, in the order that destroyed a live key on tpm2-pkcs11 (#931):
 * generate, rotate, destroy the retired key, generate again in the same process, then restart.
 * The tpm2 token is an empty one of its own, so that the first key gets the first object
 * handles, the case the module gets wrong.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { compactVerify, importJWK } from 'jose';
import { FixedClock } from '../../server/clock.js';
import { loadConfig } from '../../server/config.js';
import { SYSTEM_ACTOR, type Actor } from '../../server/domain/types.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime, seedDemo, type Runtime } from '../../server/runtime.js';
import { repoRoot } from './helpers.js';
import { forEachTestToken } from './tokens.js';
import { read } from '../support/storeReads.js';
import { createIdentity } from '../../server/flows/identities/createIdentity.js';

forEachTestToken((t) => {
  test('NSIS 6 (Substantial) 11: generate, rotate, destroy the retired key, generate again in one process, then restart: the active key keeps its objects and signs, before and after the restart', async () => {
    const varDir = mkdtempSync(path.join(tmpdir(), 'gw-key-lifecycle-'));
    const pinFile = path.join(varDir, 'token.pin');
    writeFileSync(pinFile, t.config.pin, { mode: 0o600 });
    const config = loadConfig(
      {
        GATEWAY_VAR_DIR: varDir,
        GATEWAY_LOG_LEVEL: 'silent',
        GATEWAY_HSM_MODULE: t.config.modulePath,
        GATEWAY_HSM_TOKEN_LABEL: t.config.tokenLabel,
        GATEWAY_HSM_PIN_FILE: pinFile,
      },
      repoRoot,
    );
    const clock = new FixedClock(new Date());
    const open = (): Promise<Runtime> => createRuntime(config, { log: createLogger('silent'), clock });
    const verifies = async (runtime: Runtime, kid: string): Promise<void> => {
      const { jws } = await (runtime.keys ?? assert.fail('no key manager')).signJws({ sub: 'lifecycle', iat: 1 });
      const record = (await read(runtime.store, (tx) => tx.signingKeys.get(kid))) ?? assert.fail(`no key ${kid}`);
      const result = await compactVerify(jws, await importJWK({ ...record.publicJwk }, 'ES256'));
      assert.equal(result.protectedHeader.kid, kid, 'signed by the active key');
    };
    let runtime = await open();
    try {
      const keys = runtime.keys ?? assert.fail('no key manager');
      const admin = (await seedDemo(runtime)).admin;
      const org = (await read(runtime.store, (tx) => tx.organisations.get(admin.organisationId))) ?? assert.fail('no organisation');
      const second = await createIdentity(runtime.flows, SYSTEM_ACTOR, {
        organisationId: org.id,
        name: 'Second Officer',
        email: 'second.officer@demo.example',
        ial: 'substantial',
        proofingMethod: 'test',
        roles: ['security-officer'],
      });
      const a: Actor = { identityId: admin.id, role: 'security-officer' };
      const b: Actor = { identityId: second.id, role: 'security-officer' };
      const twoOfficers = async (kind: 'rotation' | 'destroy', targetKid: string | null): Promise<void> => {
        const { request } = await keys.request(a, kind, targetKid, `test ${kind}`);
        assert.ok(request, 'two officers: the request waits for the second');
        const done = await keys.approve(b, request.id);
        assert.equal(done.state, 'executed', done.result ?? '');
      };

      const k1 = (await read(runtime.store, (tx) => tx.signingKeys.active())) ?? assert.fail('no initial key');
      await twoOfficers('rotation', null);
      clock.advance((config.keyPropagationSeconds + 1) * 1000);
      await keys.tick();
      const k2 = (await read(runtime.store, (tx) => tx.signingKeys.active())) ?? assert.fail('no active key after the rotation');
      assert.notEqual(k2.kid, k1.kid);
      assert.equal((await read(runtime.store, (tx) => tx.signingKeys.get(k1.kid)))?.state, 'retired');

      clock.advance((config.tokenTtlSeconds + 120) * 1000);
      await twoOfficers('destroy', k1.kid);
      assert.equal((await read(runtime.store, (tx) => tx.signingKeys.get(k1.kid)))?.state, 'destroyed');

      // The generation after a destroy, in the same process.
      await twoOfficers('rotation', null);
      const k3 = (await read(runtime.store, (tx) => tx.signingKeys.inState('pending')))[0] ?? assert.fail('no pending key');
      assert.equal((await read(runtime.store, (tx) => tx.signingKeys.active()))?.kid, k2.kid, 'K2 is still the active key');
      await verifies(runtime, k2.kid);
      const listed = await keys.list();
      for (const kid of [k2.kid, k3.kid]) {
        const view = listed.find((k) => k.kid === kid);
        assert.equal(view?.attributeCheck?.ok, true, `${kid}: ${JSON.stringify(view?.attributeCheck)}`);
        assert.equal(view?.attributeCheck?.tokens[0]?.publicKeyPresent, true, `${kid} keeps its public key object`);
      }
    } finally {
      await runtime.close();
    }

    // Restart: a new C_Initialize, a new handle table.
    runtime = await open();
    try {
      assert.equal((await read(runtime.store, (tx) => tx.signingKeys.active()))?.state, 'active');
      const active = (await read(runtime.store, (tx) => tx.signingKeys.active())) ?? assert.fail('no active key after the restart');
      await verifies(runtime, active.kid);
      const view = (await (runtime.keys ?? assert.fail('no key manager')).list()).find((k) => k.kid === active.kid);
      assert.equal(view?.attributeCheck?.ok, true, JSON.stringify(view?.attributeCheck));
      // Clean up the token: every key this gateway made.
      for (const k of (await read(runtime.store, (tx) => tx.signingKeys.list()))) if (k.state !== 'destroyed') await runtime.hsm?.destroyEverywhere(k.ckaId);
    } finally {
      await runtime.close();
      rmSync(varDir, { recursive: true, force: true });
    }
  });
}, { tpm2: 'fresh' });
