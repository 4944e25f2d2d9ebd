/**
 * Relying parties from GATEWAY_OIDC_CLIENTS_FILE: registered at start and audited; a secret comes
 * from the file named by secretFile, never from the clients file; a bad file stops the start with
 * the key named.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../server/config.js';
import { startTestGateway } from '../support/testGateway.js';
import { auditEntries, read } from '../support/storeReads.js';

function clientsFile(content: unknown, secret?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-clients-'));
  if (secret !== undefined) fs.writeFileSync(path.join(dir, 'intranet.secret'), `${secret}\n`, { mode: 0o600 });
  const file = path.join(dir, 'clients.json');
  fs.writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('OpenID Connect clients from a configuration file (NSIS 6)', () => {
  it('registers every client at start, with its secret from secretFile, and audits it', async () => {
    const file = clientsFile(
      [
        {
          clientId: 'intranet',
          name: 'Intranet',
          redirectUris: ['https://intranet.demo.example/callback'],
          postLogoutRedirectUris: ['https://intranet.demo.example/'],
          authMethod: 'client_secret_basic',
          secretFile: 'intranet.secret',
          scopes: ['openid', 'profile'],
          minLoa: 'substantial',
          backchannelLogoutUri: 'https://intranet.demo.example/backchannel',
        },
      ],
      'a-long-shared-secret-from-a-file',
    );
    const gw = await startTestGateway({ env: { GATEWAY_OIDC_CLIENTS_FILE: file } });
    try {
      const client = (await read(gw.runtime.store, (tx) => tx.oidc.client('intranet')));
      assert.equal(client?.authMethod, 'client_secret_basic');
      assert.deepEqual(client?.redirectUris, ['https://intranet.demo.example/callback']);
      assert.ok(client?.secretHash && !client.secretHash.includes('a-long-shared-secret'));
      const basic = Buffer.from('intranet:a-long-shared-secret-from-a-file').toString('base64');
      const res = await fetch(`${gw.origin}/oidc/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&code=nope&redirect_uri=https%3A%2F%2Fintranet.demo.example%2Fcallback&code_verifier=x',
      });
      const body: unknown = await res.json();
      assert.equal(res.status, 400);
      assert.deepEqual(typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined, 'invalid_grant', 'the secret from the file authenticates the client');
      assert.ok((await auditEntries(gw.runtime.store)).some((e) => e.type === 'oidc.client-registered' && e.subjectId === 'intranet'));
    } finally {
      await gw.close();
    }
  });

  it('a client file with a plain-http redirect URI or a missing secretFile stops the start, naming the key', async () => {
    const bad = clientsFile([{ clientId: 'bad-1', name: 'X', redirectUris: ['https://x.example/cb'], authMethod: 'client_secret_basic' }]);
    await assert.rejects(startTestGateway({ env: { GATEWAY_OIDC_CLIENTS_FILE: bad } }), (err: unknown) => err instanceof ConfigError && err.key === 'GATEWAY_OIDC_CLIENTS_FILE');
    const http = clientsFile([{ clientId: 'bad-2', name: 'X', redirectUris: ['http://x.example/cb'], authMethod: 'private_key_jwt', jwks: { keys: [{ kty: 'EC' }] } }]);
    await assert.rejects(startTestGateway({ env: { GATEWAY_OIDC_CLIENTS_FILE: http } }), /https/);
  });
});
