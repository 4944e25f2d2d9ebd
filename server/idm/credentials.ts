/**
 * The organisation's OCES system certificate for the IdM API, from a PKCS#12 file named by
 * configuration, with its password in a second file. Both must be readable by the gateway's user
 * only (mode 0600 or stricter), as the gateway secret file is; the pair is opened once at start so
 * a wrong password or a damaged file stops the start with the key named, not the first job.
 *
 * Note: Node trusts the CA certificates inside a PKCS#12 for verifying the server too (they join
 * the context's store). An OCES file carries the OCES chain, which issues no TLS server
 * certificates for the API's host, so this widens nothing in practice. GATEWAY_IDM_CA_FILE, when
 * set, REPLACES the public roots (Node's `ca` option) with the anchors it names: for integration
 * test environments whose server certificate no public root issued.
 */
import fs from 'node:fs';
import tls from 'node:tls';
import { ConfigError } from '../config.js';

export interface IdmCredentials {
  /** The PKCS#12 bytes (certificate, chain and private key). */
  pfx: Buffer;
  passphrase: string;
  /** Trust anchors used instead of the public roots for the API's server certificate (test environments). */
  ca: Buffer[] | undefined;
}

export interface IdmCredentialFiles {
  pkcs12File: string;
  passwordFile: string;
  caFile?: string | undefined;
}

function readPrivate(file: string, key: string): Buffer {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new ConfigError(key, `${file} does not exist`);
  }
  if (!stat.isFile()) throw new ConfigError(key, `${file} is not a file`);
  if ((stat.mode & 0o077) !== 0) throw new ConfigError(key, `${file} is readable by group or others; chmod 600 it`);
  return fs.readFileSync(file);
}

export function loadIdmCredentials(files: IdmCredentialFiles): IdmCredentials {
  const pfx = readPrivate(files.pkcs12File, 'GATEWAY_IDM_PKCS12_FILE');
  const passphrase = readPrivate(files.passwordFile, 'GATEWAY_IDM_PKCS12_PASSWORD_FILE').toString('utf8').replace(/\r?\n$/, '');
  let ca: Buffer[] | undefined;
  if (files.caFile) {
    try {
      ca = [fs.readFileSync(files.caFile)];
    } catch {
      throw new ConfigError('GATEWAY_IDM_CA_FILE', `${files.caFile} cannot be read`);
    }
  }
  try {
    tls.createSecureContext({ pfx, passphrase, ...(ca ? { ca } : {}) });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError('GATEWAY_IDM_PKCS12_FILE', `cannot open ${files.pkcs12File} with the password in ${files.passwordFile} (${why})`);
  }
  return { pfx, passphrase, ca };
}
