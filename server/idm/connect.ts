/** Builds the IdM API client from its configuration: credentials checked, transport, client. */
import type { Clock } from '../clock.js';
import { IdmClient } from './client.js';
import type { IdmConfig } from './config.js';
import { loadIdmCredentials } from './credentials.js';
import { IdmTransport } from './transport.js';

export function connectIdm(config: IdmConfig, clock: Clock): IdmClient {
  const credentials = loadIdmCredentials({ pkcs12File: config.pkcs12File, passwordFile: config.passwordFile, caFile: config.caFile });
  const transport = new IdmTransport({ baseUrl: config.baseUrl, credentials, timeoutMs: config.timeoutMs, maxResponseBytes: config.maxResponseBytes });
  return new IdmClient({ transport, clock, createStatus: config.createStatus, invoiceMethodUuid: config.invoiceMethodUuid });
}
