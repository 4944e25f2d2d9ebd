/**
 * Issue 13, "Abuse and races" 9: a back-channel logout URI is a request the gateway makes on a
 * relying party's word. Outside development mode (GATEWAY_DEVELOPMENT_MODE=false; the default for
 * every https origin) it is refused at registration when its host is, or resolves to, a loopback,
 * private, link-local or otherwise non-public address, in any spelling (IPv6, IPv4-mapped, decimal),
 * audited; and a URI that gets past registration (a row from before, or a name that resolves
 * elsewhere later) is refused again when the logout token would be sent. /api/health tells
 * nobody where the outbox lives, or anything else about the host.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { embeddedIpv4, isPublicAddress } from '../../server/net/addresses.js';
import { ApiClient, field } from '../support/apiClient.js';
import { activeAdmin } from '../support/journeys.js';
import { startTestGateway, type TestGateway } from '../support/testGateway.js';
import { auditEntries, read } from '../support/storeReads.js';

/** Counts every request that reaches it: none may, outside development mode. */
class Receiver {
  hits = 0;
  private readonly server = http.createServer((req, res) => {
    this.hits++;
    req.resume();
    res.writeHead(200).end();
  });
  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

const client = (clientId: string, backchannelLogoutUri: string) => ({
  clientId,
  name: clientId,
  redirectUris: ['https://rp.example.dk/callback'],
  authMethod: 'client_secret_basic',
  scopes: ['openid'],
  backchannelLogoutUri,
});

async function auditOf(gw: TestGateway, type: string, subjectId: string) {
  return (await auditEntries(gw.runtime.store)).filter((e) => e.type === type && e.subjectId === subjectId);
}

describe('back-channel logout URIs outside development mode (issue 13, 9)', () => {
  let gw: TestGateway;
  let admin: ApiClient;
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
    gw = await startTestGateway({ env: { GATEWAY_DEVELOPMENT_MODE: 'false', GATEWAY_STEP_UP_MINUTES: '60' } });
    admin = (await activeAdmin(gw)).client;
  });
  after(async () => {
    await gw?.close();
    await receiver.close();
  });

  it('NSIS 6 (Low) 5: a back-channel logout URI on a loopback, private, link-local or reserved address, in any spelling, is refused at registration (400 VALIDATION_FAILED) and audited', async () => {
    const refused = [
      `http://127.0.0.1:${receiver.port}/bc`,
      'http://127.8.9.10/bc',
      `http://localhost:${receiver.port}/bc`,
      'http://2130706433/bc',
      'http://0x7f.1/bc',
      'http://0.0.0.0/bc',
      'http://[::1]/bc',
      'http://[::]/bc',
      'http://[::ffff:127.0.0.1]/bc',
      'http://[::ffff:7f00:1]/bc',
      'http://[0:0:0:0:0:ffff:a00:5]/bc',
      'https://10.0.0.5/bc',
      'https://172.16.3.4/bc',
      'https://192.168.1.10/bc',
      'https://100.64.0.1/bc',
      'http://169.254.169.254/latest/meta-data',
      'https://[fe80::1]/bc',
      'https://[fd12:3456::1]/bc',
      'https://[64:ff9b::a00:1]/bc',
      'https://[2002:c0a8:101::1]/bc',
      'https://224.0.0.1/bc',
    ];
    for (const [i, uri] of refused.entries()) {
      const clientId = `ssrf-${i}`;
      const res = await admin.post('/api/admin/oidc-clients', client(clientId, uri));
      assert.equal(res.status, 400, `${uri}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.code, 'VALIDATION_FAILED', uri);
      assert.equal(field(res.body, 'errors', '0', 'path'), 'backchannelLogoutUri', uri);
      assert.equal((await read(gw.runtime.store, (tx) => tx.oidc.client(clientId))), undefined, `${uri} was registered`);
      const audited = (await auditOf(gw, 'oidc.client-refused', clientId));
      assert.equal(audited.length, 1, `${uri}: refusal not audited`);
      assert.equal(audited[0]?.data['reason'], 'backchannel-uri-not-public');
    }
    // A public address is accepted.
    const ok = await admin.post('/api/admin/oidc-clients', client('public-rp', 'https://93.184.215.14/backchannel'));
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  it('NSIS 6 (Low) 5: a logout token is never sent to a non-public address, even for a client registered before (checked as the connection is made); the refusal is audited', async () => {
    const store = gw.runtime.store;
    const oidc = gw.runtime.oidc;
    assert.ok(oidc);
    // Rows as an older release, or a DNS answer that changed since registration, would leave them.
    for (const [clientId, host] of [
      ['legacy-literal', '127.0.0.1'],
      ['legacy-name', 'localhost'],
    ] as const) {
      await store.write((tx) => tx.oidc.upsertClient({
        clientId,
        name: clientId,
        redirectUris: ['https://rp.example.dk/cb'],
        postLogoutRedirectUris: [],
        authMethod: 'client_secret_basic',
        secretHash: null,
        jwks: null,
        scopes: ['openid'],
        minLoa: 'substantial',
        backchannelLogoutUri: `http://${host}:${receiver.port}/bc`,
        createdBy: null,
        createdAt: new Date().toISOString(),
      }));
    }
    const session = (await read(store, (tx) => tx.sessions.liveOfIdentity(gw.seed.admin.id)))[0];
    assert.ok(session);
    await store.write(async (tx) => {
      await tx.oidc.recordSessionClient(session.idHash, 'legacy-literal');
      await tx.oidc.recordSessionClient(session.idHash, 'legacy-name');
    });
    await oidc.backchannelLogout([session]);
    assert.equal(receiver.hits, 0, 'a logout token reached a loopback listener');
    for (const clientId of ['legacy-literal', 'legacy-name']) {
      const [delivery] = (await auditOf(gw, 'oidc.backchannel-logout', clientId));
      assert.match(String(delivery?.data['status']), /^refused: /, `${clientId}: ${JSON.stringify(delivery?.data)}`);
    }
  });

  it('operability: /api/health shows no path, host name or server of the host (the outbox is reported by channel only)', async () => {
    const res = await new ApiClient(gw.origin).get('/api/health');
    assert.equal(res.status, 200);
    const text = JSON.stringify(res.body);
    for (const secret of [gw.varDir, gw.runtime.config.outboxDir, os.tmpdir(), os.hostname(), gw.runtime.config.hsm.tokenLabel]) {
      assert.ok(!text.includes(secret), `/api/health shows ${secret}: ${text}`);
    }
    assert.deepEqual(field(res.body, 'outbox'), { channel: 'file' });
  });
});

describe('back-channel logout URIs in development mode (the default for http://localhost; issue 13, 9)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ env: { GATEWAY_STEP_UP_MINUTES: '60' } });
  });
  after(async () => {
    await gw?.close();
  });

  it('development mode: a relying party on this machine may take back-channel logout tokens (what the OIDC tests use)', async () => {
    assert.equal(gw.runtime.config.developmentMode, true);
    const admin = (await activeAdmin(gw)).client;
    const res = await admin.post('/api/admin/oidc-clients', client('local-rp', 'http://127.0.0.1:8701/backchannel'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });
});

describe('which addresses are public (issue 13, 9)', () => {
  it('special-purpose IPv4 and IPv6 ranges are not public, in every spelling; ordinary unicast is', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.100.100.100', '0.0.0.0', '255.255.255.255', '::', '::1', '::ffff:10.0.0.1', '::ffff:7f00:1', '::7f00:1', 'fe80::1%eth0', 'fc00::1', 'fdff::1', 'ff02::1', '64:ff9b::7f00:1', '2002:7f00:1::', '2001:db8::1', 'not-an-ip']) {
      assert.equal(isPublicAddress(a), false, a);
    }
    for (const a of ['93.184.215.14', '8.8.8.8', '2a00:1450:4001:80b::200e', '64:ff9b::808:808', '::ffff:8.8.8.8']) assert.equal(isPublicAddress(a), true, a);
    assert.equal(embeddedIpv4('::ffff:192.168.1.1'), '192.168.1.1');
    assert.equal(embeddedIpv4('2002:c0a8:0101::1'), '192.168.1.1');
    assert.equal(embeddedIpv4('2a00::1'), undefined);
  });
});
