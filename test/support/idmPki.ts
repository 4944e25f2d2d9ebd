/**
 * A throwaway PKI for the IdM API contract server, made at test time with the openssl CLI: a test
 * CA, the server's certificate (127.0.0.1, localhost), the organisation's "OCES system
 * certificate" packed as PKCS#12 with `openssl pkcs12 -export` (mode 0600, password in a 0600
 * file), and a certificate from another CA that the server must refuse.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Pkcs12Files {
  pkcs12File: string;
  passwordFile: string;
}

export interface IdmPki {
  dir: string;
  caPemFile: string;
  caPem: string;
  serverKeyPem: string;
  serverCertPem: string;
  /** The organisation's system certificate, issued by the test CA. */
  client: Pkcs12Files;
  /** A second system certificate of the organisation (another instance's, told apart by its CN). */
  secondClient: Pkcs12Files;
  /** A certificate of the same shape from a CA the server does not trust. */
  foreign: Pkcs12Files;
  /** A server certificate for 127.0.0.1 from that other CA: a server the client must not trust. */
  strangerServer: { keyPem: string; certPem: string };
  remove(): void;
}

export function createIdmPki(): IdmPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-idm-pki-'));
  fs.chmodSync(dir, 0o700);
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

  const ca = (name: string, cn: string) => {
    ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(`${name}.key`));
    ssl('req', '-x509', '-new', '-key', f(`${name}.key`), '-sha256', '-days', '2', '-subj', `/C=DK/O=Gateway Test/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f(`${name}.pem`));
  };
  const leaf = (name: string, caName: string, subject: string, ext: string, rsa: boolean) => {
    if (rsa) ssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f(`${name}.key`));
    else ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(`${name}.key`));
    ssl('req', '-new', '-key', f(`${name}.key`), '-subj', subject, '-out', f(`${name}.csr`));
    fs.writeFileSync(f(`${name}.ext`), ext);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${caName}.pem`), '-CAkey', f(`${caName}.key`), '-CAcreateserial', '-days', '2', '-sha256', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
  };
  const pkcs12 = (name: string, caName: string): Pkcs12Files => {
    const password = randomBytes(18).toString('base64url');
    const passwordFile = f(`${name}.pass`);
    fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    ssl('pkcs12', '-export', '-inkey', f(`${name}.key`), '-in', f(`${name}.pem`), '-certfile', f(`${caName}.pem`), '-name', name, '-passout', `file:${passwordFile}`, '-out', f(`${name}.p12`));
    fs.chmodSync(f(`${name}.p12`), 0o600);
    return { pkcs12File: f(`${name}.p12`), passwordFile };
  };

  ca('ca', 'Test OCES CA');
  ca('other-ca', 'Someone Else CA');
  leaf('server', 'ca', '/C=DK/O=Test MitID Erhverv/CN=localhost', 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n', false);
  const orgSubject = '/C=DK/O=Demo Organisation ApS/organizationIdentifier=NTRDK-12345674/CN=Gateway IdM integration';
  leaf('client', 'ca', orgSubject, 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n', true);
  leaf('client2', 'ca', '/C=DK/O=Demo Organisation ApS/organizationIdentifier=NTRDK-12345674/CN=Gateway IdM integration 2', 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n', true);
  leaf('stranger', 'other-ca', '/C=DK/O=Not MitID Erhverv/CN=localhost', 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n', false);
  leaf('foreign', 'other-ca', orgSubject, 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n', false);

  return {
    dir,
    caPemFile: f('ca.pem'),
    caPem: fs.readFileSync(f('ca.pem'), 'utf8'),
    serverKeyPem: fs.readFileSync(f('server.key'), 'utf8'),
    serverCertPem: fs.readFileSync(f('server.pem'), 'utf8'),
    client: pkcs12('client', 'ca'),
    secondClient: pkcs12('client2', 'ca'),
    foreign: pkcs12('foreign', 'other-ca'),
    strangerServer: { keyPem: fs.readFileSync(f('stranger.key'), 'utf8'), certPem: fs.readFileSync(f('stranger.pem'), 'utf8') },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
