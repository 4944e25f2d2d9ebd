/**
 * A test attestation PKI made with the openssl CLI: a root (the trust anchor a metadata
 * statement names) and a batch attestation certificate shaped as WebAuthn §8.2.1 requires for
 * packed attestation (C, O, OU "Authenticator Attestation", CN; CA:FALSE).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SoftAttestationCa } from './softAuthenticator.js';

export function createAttestationCa(): SoftAttestationCa & { rootDer: Uint8Array } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-attca-'));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('root.key'));
    ssl('req', '-x509', '-new', '-key', f('root.key'), '-sha256', '-days', '3650', '-subj', '/C=DK/O=Gateway Test/CN=Test Attestation Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('root.pem'));
    ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('leaf.key'));
    ssl('pkcs8', '-topk8', '-nocrypt', '-in', f('leaf.key'), '-out', f('leaf.p8'));
    ssl('req', '-new', '-key', f('leaf.key'), '-subj', '/C=DK/O=Gateway Test/OU=Authenticator Attestation/CN=Test Batch', '-out', f('leaf.csr'));
    fs.writeFileSync(f('leaf.ext'), 'basicConstraints=critical,CA:FALSE\n');
    ssl('x509', '-req', '-in', f('leaf.csr'), '-CA', f('root.pem'), '-CAkey', f('root.key'), '-CAcreateserial', '-days', '3650', '-sha256', '-extfile', f('leaf.ext'), '-out', f('leaf.pem'));
    const der = (pem: string) => new Uint8Array(ssl('x509', '-in', pem, '-outform', 'DER'));
    return { rootDer: der(f('root.pem')), chainDer: [der(f('leaf.pem'))], privateKeyPem: fs.readFileSync(f('leaf.p8'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
