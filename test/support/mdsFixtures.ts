/**
 * Test FIDO MDS3 BLOBs: a throwaway PKI made with the openssl CLI in a temp dir (root CA ->
 * intermediate CA -> signing certificate, back-dated so a pinned clock in 2024 is inside the
 * validity), and a JWS signed with jose whose x5c header carries [leaf, intermediate].
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CompactSign } from 'jose';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

async function openssl(cwd: string, args: string[]): Promise<void> {
  await run(OPENSSL, args, { cwd, timeout: 20_000 });
}

export type TestBlobAlg = 'ES256' | 'RS256';

export interface TestPkiOptions {
  alg?: TestBlobAlg;
  /** Put an intermediate CA between the root and the signing certificate (default true). */
  intermediate?: boolean;
  /** Validity of every certificate, ISO instants (default 2020-01-01 .. 2045-01-01). */
  notBefore?: string;
  notAfter?: string;
}

export interface TestPki {
  alg: TestBlobAlg;
  rootDer: Uint8Array;
  /** x5c order: leaf first, then the intermediate (if any). */
  chainDer: Uint8Array[];
  leafKeyPem: string;
}

export interface TestBlobOptions extends TestPkiOptions {
  no: number;
  nextUpdate: string;
  entries: unknown[];
  legalHeader?: string;
  /** Sign with an existing PKI (same root for several BLOBs). */
  pki?: TestPki;
}

/** openssl ca wants YYYYMMDDHHMMSSZ. */
function asn1Time(iso: string): string {
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) throw new TypeError(`not a date: ${iso}`);
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

const CA_CONFIG = `
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = ./index.txt
new_certs_dir = ./issued
serial = ./serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any_name ]
commonName = supplied
organizationName = optional
[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_intermediate ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_signer ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

async function der(dir: string, pemFile: string): Promise<Uint8Array> {
  return new Uint8Array(new X509Certificate(await readFile(path.join(dir, pemFile))).raw);
}

/** Root CA -> (intermediate) -> BLOB signer, all made with openssl in a temp dir that is removed. */
export async function createTestPki(opts: TestPkiOptions = {}): Promise<TestPki> {
  const alg = opts.alg ?? 'ES256';
  const withIntermediate = opts.intermediate ?? true;
  const dates = ['-startdate', asn1Time(opts.notBefore ?? '2020-01-01T00:00:00Z'), '-enddate', asn1Time(opts.notAfter ?? '2045-01-01T00:00:00Z')];
  const keyArgs = alg === 'ES256' ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
  const dir = await mkdtemp(path.join(tmpdir(), 'mds-pki-'));
  try {
    await writeFile(path.join(dir, 'ca.cnf'), CA_CONFIG);
    await writeFile(path.join(dir, 'index.txt'), '');
    await writeFile(path.join(dir, 'serial'), '1000\n');
    await mkdir(path.join(dir, 'issued'));
    const ca = (args: string[]): Promise<void> => openssl(dir, ['ca', '-batch', '-config', 'ca.cnf', '-notext', ...dates, ...args]);
    const newKeyAndCsr = async (name: string, cn: string, args: string[]): Promise<void> => {
      await openssl(dir, ['genpkey', ...args, '-out', `${name}.key`]);
      await openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/O=MDS Test/CN=${cn}`, '-out', `${name}.csr`]);
    };

    await newKeyAndCsr('root', 'Test MDS Root', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    await ca(['-selfsign', '-keyfile', 'root.key', '-extensions', 'v3_root', '-in', 'root.csr', '-out', 'root.pem']);
    let issuer = 'root';
    if (withIntermediate) {
      await newKeyAndCsr('intermediate', 'Test MDS Intermediate', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
      await ca(['-cert', 'root.pem', '-keyfile', 'root.key', '-extensions', 'v3_intermediate', '-in', 'intermediate.csr', '-out', 'intermediate.pem']);
      issuer = 'intermediate';
    }
    await newKeyAndCsr('signer', 'mds.test.invalid', keyArgs);
    await ca(['-cert', `${issuer}.pem`, '-keyfile', `${issuer}.key`, '-extensions', 'v3_signer', '-in', 'signer.csr', '-out', 'signer.pem']);

    const chainDer = [await der(dir, 'signer.pem')];
    if (withIntermediate) chainDer.push(await der(dir, 'intermediate.pem'));
    return { alg, rootDer: await der(dir, 'root.pem'), chainDer, leafKeyPem: await readFile(path.join(dir, 'signer.key'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Signs `payload` as an MDS BLOB (JWS compact, header {alg, typ: 'JWT', x5c}) with the PKI's signer. */
export async function signBlob(pki: TestPki, payload: unknown): Promise<string> {
  const key = createPrivateKey(pki.leafKeyPem);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: pki.alg, typ: 'JWT', x5c: pki.chainDer.map((d) => Buffer.from(d).toString('base64')) })
    .sign(key);
}

/** A BLOB { legalHeader, no, nextUpdate, entries } signed by a fresh (or the given) test PKI. */
export async function buildTestBlob(opts: TestBlobOptions): Promise<{ jwt: string; rootDer: Uint8Array; pki: TestPki }> {
  const pki = opts.pki ?? (await createTestPki(opts));
  const payload = { legalHeader: opts.legalHeader ?? 'Test BLOB: not from the FIDO Alliance.', no: opts.no, nextUpdate: opts.nextUpdate, entries: opts.entries };
  return { jwt: await signBlob(pki, payload), rootDer: pki.rootDer, pki };
}

/** A throwaway self-signed P-256 root, the way an operator might mistakenly configure one. */
export async function makeSelfSignedRoot(cn = 'Not The MDS Root'): Promise<Uint8Array> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mds-root-'));
  try {
    await openssl(dir, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'root.key', '-out', 'root.pem', '-days', '3650', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return new Uint8Array(new X509Certificate(await readFile(path.join(dir, 'root.pem'))).raw);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The JWS with exactly one byte of the decoded payload changed: the byte at which `needle` and
 * `replacement` (same length, one differing character) differ, at needle's first occurrence.
 */
export function tamperPayload(jwt: string, needle: string, replacement: string): string {
  const a = Buffer.from(needle, 'utf8');
  const b = Buffer.from(replacement, 'utf8');
  const diff = [...a.keys()].filter((i) => a[i] !== b[i]);
  if (a.length !== b.length || diff.length !== 1) throw new TypeError('needle and replacement must differ in exactly one byte');
  const [h, p, s] = jwt.trim().split('.') as [string, string, string];
  const payload = Buffer.from(p, 'base64url');
  const at = payload.indexOf(a);
  if (at < 0) throw new Error(`payload does not contain ${needle}`);
  const i = at + (diff[0] as number);
  payload[i] = b[diff[0] as number] as number;
  return `${h}.${payload.toString('base64url')}.${s}`;
}

/** The JWS with one byte of the signature flipped (the compact form stays well-formed). */
export function tamperSignature(jwt: string): string {
  const [h, p, s] = jwt.trim().split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  const mid = Math.floor(sig.length / 2);
  sig[mid] = (sig[mid] ?? 0) ^ 0x01;
  return `${h}.${p}.${sig.toString('base64url')}`;
}
