/**
 * A self-signed X.509 v3 certificate for a key on the token, signed by that
 * key (for test and development; production uses a CA-issued certificate,
 * see certificationRequest.ts): RFC 5280 4.1, sha256WithRSAEncryption.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { type CertificateSigner, arrayBuffer, der, signatureAlgorithm, subjectPublicKeyInfo } from './certificateSigner.js';
import { X509Error } from './errors.js';
import { type DistinguishedName, toName } from './name.js';
import { toPem } from './pem.js';

export interface SelfSignedCertificateOptions {
  subject: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  /** Positive serial number (big-endian); default 16 random bytes (RFC 5280 4.1.2.2: at most 20 octets). */
  serialNumber?: Uint8Array;
}

export interface EncodedCertificate {
  der: Uint8Array;
  pem: string;
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
function keyIdentifier(signer: CertificateSigner): ArrayBuffer {
  const key = new Uint8Array(subjectPublicKeyInfo(signer).subjectPublicKey);
  return arrayBuffer(createHash('sha1').update(key).digest());
}

function positiveSerial(bytes: Uint8Array | undefined): Uint8Array {
  const serial = bytes ?? randomBytes(16);
  if (serial.length === 0 || serial.length > 20 || serial.every((b) => b === 0)) {
    throw new X509Error('X509_BAD_REQUEST', 'serialNumber must be 1 to 20 octets and not zero');
  }
  // DER INTEGERs are minimal (X.690 8.3.2): no leading zero octets (a random serial starts with
  // one in 1 of 256 cases, and strict parsers refuse the certificate), and signed: a leading 1 bit
  // would make it negative, so it gets exactly one zero octet.
  let first = 0;
  while (first < serial.length - 1 && serial[first] === 0) first++;
  const minimal = serial.subarray(first);
  return (minimal[0] ?? 0) & 0x80 ? Uint8Array.from([0, ...minimal]) : minimal;
}

/**
 * Builds the TBSCertificate (issuer = subject; basicConstraints cA false and
 * keyUsage digitalSignature, both critical; subject and authority key
 * identifiers), has the key sign its DER and returns the certificate.
 */
export async function createSelfSignedCertificate(signer: CertificateSigner, options: SelfSignedCertificateOptions): Promise<EncodedCertificate> {
  if (!(options.notBefore.getTime() < options.notAfter.getTime())) {
    throw new X509Error('X509_BAD_REQUEST', 'notBefore must be before notAfter');
  }
  const name = toName(options.subject);
  const keyId = keyIdentifier(signer);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: arrayBuffer(positiveSerial(options.serialNumber)),
    signature: signatureAlgorithm(),
    issuer: name,
    // Time picks UTCTime before 2050 and GeneralizedTime from 2050 on (RFC 5280 4.1.2.5).
    validity: new Validity({ notBefore: options.notBefore, notAfter: options.notAfter }),
    subject: name,
    subjectPublicKeyInfo: subjectPublicKeyInfo(signer),
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
      extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId)),
      extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId) })),
    ]),
  });
  const tbsDer = der(tbs);
  const signature = await signer.sign(tbsDer);
  const certificate = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: signatureAlgorithm(), signatureValue: arrayBuffer(signature) });
  const encoded = der(certificate);
  return { der: encoded, pem: toPem(encoded, 'CERTIFICATE') };
}
