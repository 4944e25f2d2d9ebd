/**
 * One contract server and PKI per test file, and clients built through the real configuration
 * path (loadIdmConfig -> connectIdm: credentials checked, mTLS transport).
 */
import { FixedClock } from '../../server/clock.js';
import { type IdmClient, connectIdm, loadIdmConfig } from '../../server/idm/index.js';
import { type IdmContractServer, startIdmContractServer } from './idmContractServer.js';
import { type IdmPki, type Pkcs12Files, createIdmPki } from './idmPki.js';

export const INVOICE_METHOD = '5a1b6f8e-7d2c-4b3a-9e8f-1a2b3c4d5e6f';

export interface IdmHarness {
  pki: IdmPki;
  server: IdmContractServer;
  clock: FixedClock;
  /** A client with the organisation's certificate; `timeoutMs` short enough for hang tests. */
  client(options?: { timeoutMs?: number; credentials?: Pkcs12Files; trustTestCa?: boolean }): IdmClient;
  env(options?: { timeoutMs?: number; credentials?: Pkcs12Files; trustTestCa?: boolean }): Record<string, string>;
  close(): Promise<void>;
}

export async function startIdm(): Promise<IdmHarness> {
  const pki = createIdmPki();
  const server = await startIdmContractServer(pki);
  const clock = new FixedClock('2026-01-05T08:00:00Z');
  const clients: IdmClient[] = [];
  const env = (o: { timeoutMs?: number; credentials?: Pkcs12Files; trustTestCa?: boolean } = {}) => {
    const creds = o.credentials ?? pki.client;
    return {
      GATEWAY_IDM_BASE_URL: server.url,
      GATEWAY_IDM_PKCS12_FILE: creds.pkcs12File,
      GATEWAY_IDM_PKCS12_PASSWORD_FILE: creds.passwordFile,
      ...(o.trustTestCa === false ? {} : { GATEWAY_IDM_CA_FILE: pki.caPemFile }),
      GATEWAY_IDM_INVOICE_METHOD_UUID: INVOICE_METHOD,
      // Generous by default (a shared CPU); the hang tests pass a short one.
      GATEWAY_IDM_TIMEOUT_MS: String(o.timeoutMs ?? 20_000),
    };
  };
  return {
    pki,
    server,
    clock,
    env,
    client(o = {}) {
      const config = loadIdmConfig(env(o), process.cwd());
      if (!config.enabled) throw new TypeError('IdM configuration unexpectedly off');
      const c = connectIdm(config, clock);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
      pki.remove();
    },
  };
}
