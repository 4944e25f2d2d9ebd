/**
 * Issue 13, "Abuse and races" 8: sign-in and activation options for an address nobody holds
 * must look like a real person's: as many credential ids, of the lengths and with the transports
 * real keys of this organisation have (drawn from the registered keys' own distribution), stable
 * for the same address, different between addresses. Otherwise the options answer "does this
 * person exist?" to anyone.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../server/clock.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activeAdmin, activeEmployee, enrol } from '../support/journeys.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';

interface Allowed {
  id: string;
  transports?: string[];
}

const bytesOf = (id: string): number => Buffer.from(id, 'base64url').length;
const shape = (a: Allowed): string => `${bytesOf(a.id)}:${JSON.stringify(a.transports ?? [])}`;

async function allowed(c: ApiClient, path: '/api/signin/options' | '/api/activation/options', email: string): Promise<Allowed[]> {
  const res = await c.post(path, { email });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return field<PublicKeyCredentialRequestOptionsJSON>(res.body, 'options').allowCredentials ?? [];
}

describe('decoy credentials for unknown addresses (issue 13, 8)', () => {
  const clock = new FixedClock(new Date());
  let gw: TestGateway;
  const people: { email: string; keys: number; bytes: number; transports: string[] }[] = [
    { email: 'one-short@demo.example', keys: 1, bytes: 16, transports: ['usb'] },
    { email: 'two-long@demo.example', keys: 2, bytes: 64, transports: ['nfc', 'usb'] },
    { email: 'three-mid@demo.example', keys: 3, bytes: 48, transports: ['usb'] },
    { email: 'one-mid@demo.example', keys: 1, bytes: 48, transports: ['usb'] },
  ];
  before(async () => {
    gw = await startTestGateway({ clock, env: { GATEWAY_STEP_UP_MINUTES: '60', GATEWAY_SESSION_IDLE_MINUTES: '600', GATEWAY_SESSION_ABSOLUTE_MINUTES: '6000' } });
    const admin = await activeAdmin(gw);
    for (const p of people) {
      const auth = new SoftAuthenticator({ credentialIdBytes: p.bytes, transports: p.transports });
      const emp = await activeEmployee(gw, admin.client, p.email, p.email, 'substantial', auth);
      for (let k = 1; k < p.keys; k++) {
        const issued = await admin.client.post(`/api/admin/identities/${emp.identityId}/enrolments`, {});
        assert.equal(issued.status, 201, JSON.stringify(issued.body));
        // Another key of the same model (a real authenticator refuses to register twice).
        await enrol(gw, new ApiClient(gw.origin), new SoftAuthenticator({ credentialIdBytes: p.bytes, transports: p.transports }), await gw.latestEnrolmentLink(p.email), `key ${k + 1}`);
      }
    }
    // The decoys follow the key population as the gateway last surveyed it (at most 10 minutes old).
    clock.advance(11 * 60_000);
  });
  after(async () => {
    await gw?.close();
  });

  it('NSIS 3.3.1 (Low) 3: unknown addresses get as many ids, of the lengths and transports, as real people have (drawn from the registered keys); stable per address, never a fixed shape', async () => {
    const c = new ApiClient(gw.origin);
    const real = await Promise.all([gw.seed.admin.email, ...people.map((p) => p.email)].map((e) => allowed(c, '/api/signin/options', e)));
    const realCounts = new Set(real.map((list) => list.length));
    const realShapes = new Set(real.flat().map(shape));
    assert.deepEqual([...realCounts].sort(), [1, 2, 3]);

    const decoyCounts = new Map<number, number>();
    const decoyShapes = new Map<string, number>();
    const seenIds = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const email = `nobody-${i}@demo.example`;
      const list = await allowed(c, '/api/signin/options', email);
      decoyCounts.set(list.length, (decoyCounts.get(list.length) ?? 0) + 1);
      for (const a of list) {
        assert.ok(realShapes.has(shape(a)), `decoy shape ${shape(a)} is not a real key's (${[...realShapes].join(', ')})`);
        assert.ok(!seenIds.has(a.id), 'two decoys share an id');
        seenIds.add(a.id);
        decoyShapes.set(shape(a), (decoyShapes.get(shape(a)) ?? 0) + 1);
      }
      assert.ok(realCounts.has(list.length), `decoy count ${list.length}`);
      if (i < 20) {
        // Stable: the same address (however spelled) gets the same answer.
        assert.deepEqual(await allowed(c, '/api/signin/options', email.toUpperCase()), list);
        assert.deepEqual(await allowed(new ApiClient(gw.origin), '/api/signin/options', ` ${email} `), list);
      }
    }
    // Every real count and shape occurs among the decoys, and in about the proportions real keys have.
    assert.deepEqual([...decoyCounts.keys()].sort(), [...realCounts].sort(), JSON.stringify([...decoyCounts]));
    assert.deepEqual([...decoyShapes.keys()].sort(), [...realShapes].sort(), JSON.stringify([...decoyShapes]));
    const freq = (bytes: number): number => [...decoyShapes].filter(([s]) => s.startsWith(`${bytes}:`)).reduce((a, [, n]) => a + n, 0);
    assert.ok(freq(48) > freq(16), `48-byte ids (4 of 8 real keys) should outnumber 16-byte ids (1 of 8): ${freq(48)} vs ${freq(16)}`);
    assert.ok((decoyCounts.get(1) ?? 0) > (decoyCounts.get(3) ?? 0), JSON.stringify([...decoyCounts]));
  });

  it('NSIS 3.3.1 (Low) 3: activation options never tell a real person from an unknown address: ids that are also among that address\'s sign-in ids (one for an unknown address), stable', async () => {
    const c = new ApiClient(gw.origin);
    for (const email of ['nobody-1@demo.example', 'nobody-2@demo.example', gw.seed.admin.email, ...people.map((p) => p.email)]) {
      const signin = (await allowed(c, '/api/signin/options', email)).map((a) => a.id);
      const activation = await allowed(c, '/api/activation/options', email);
      assert.ok(activation.length >= 1, email);
      if (email.startsWith('nobody')) assert.equal(activation.length, 1, email);
      for (const a of activation) assert.ok(signin.includes(a.id), `${email}: an activation id is not among its sign-in ids`);
      assert.deepEqual(await allowed(c, '/api/activation/options', email), activation);
    }
  });
});
