/**
 * Import of the certificate a CA issued for a key on the token: parsed, and
 * refused unless its public key is exactly the token key's, it is valid now,
 * it is not a CA certificate and its keyUsage (when present) allows digital
 * signatures. The chain to the CA is the relying party's to check (NemLog-in
 * trusts the uploaded metadata).
 */
import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, KeyUsage, KeyUsageFlags, id_ce_keyUsage } from '@peculiar/asn1-x509';
import { X509Error } from './errors.js';
import { fromPem, toPem } from './pem.js';

export interface ImportedCertificate {
  der: Uint8Array;
  pem: string;
  subject: string;
  issuer: string;
  /** Hex, as node:crypto gives it. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Lower-case hex SHA-256 of the DER. */
  sha256: string;
  selfSigned: boolean;
}

function parse(input: Uint8Array | string): { der: Uint8Array; cert: X509Certificate } {
  const der = typeof input === 'string' ? fromPem(input, 'CERTIFICATE') : input;
  if (!der) throw new X509Error('X509_MALFORMED', 'no PEM CERTIFICATE block found');
  try {
    return { der, cert: new X509Certificate(der) };
  } catch (err) {
    throw new X509Error('X509_MALFORMED', 'not an X.509 certificate', { cause: err });
  }
}

function spkiOf(cert: X509Certificate): Buffer {
  return cert.publicKey.export({ type: 'spki', format: 'der' });
}

/** keyUsage bits, or undefined when the certificate has no keyUsage extension. */
function keyUsageOf(der: Uint8Array): number | undefined {
  const parsed = AsnConvert.parse(der, Certificate);
  const ext = parsed.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_keyUsage);
  if (!ext) return undefined;
  return AsnConvert.parse(ext.extnValue, KeyUsage).toNumber();
}

/**
 * Checks `certificate` (PEM or DER) against the token key's DER
 * SubjectPublicKeyInfo at `now`. Throws X509Error: X509_MALFORMED,
 * X509_KEY_MISMATCH, X509_NOT_VALID_NOW, X509_WRONG_USAGE.
 */
export function importCertificate(certificate: Uint8Array | string, keySpki: Uint8Array, now: Date): ImportedCertificate {
  const { der, cert } = parse(certificate);
  const expected = createPublicKey({ key: Buffer.from(keySpki), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });
  if (!spkiOf(cert).equals(expected)) {
    throw new X509Error('X509_KEY_MISMATCH', `the certificate ${cert.subject} is for another key than the one on the token`);
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (now.getTime() < notBefore.getTime() || now.getTime() > notAfter.getTime()) {
    throw new X509Error('X509_NOT_VALID_NOW', `the certificate is valid from ${notBefore.toISOString()} to ${notAfter.toISOString()}`);
  }
  if (cert.ca) throw new X509Error('X509_WRONG_USAGE', 'a CA certificate cannot be the SAML signing certificate');
  let usage: number | undefined;
  try {
    usage = keyUsageOf(der);
  } catch (err) {
    throw new X509Error('X509_MALFORMED', 'the keyUsage extension cannot be read', { cause: err });
  }
  if (usage !== undefined && (usage & KeyUsageFlags.digitalSignature) === 0) {
    throw new X509Error('X509_WRONG_USAGE', 'the certificate keyUsage does not allow digitalSignature');
  }
  return {
    der,
    pem: toPem(der, 'CERTIFICATE'),
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    notBefore,
    notAfter,
    sha256: createHash('sha256').update(der).digest('hex'),
    selfSigned: cert.subject === cert.issuer && cert.verify(cert.publicKey),
  };
}
