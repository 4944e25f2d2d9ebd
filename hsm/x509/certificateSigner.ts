/**
 * What signs a certificate or a certification request: a key that stays on
 * the token, seen through its public key and an asynchronous
 * RSASSA-PKCS1-v1_5 SHA-256 signature (hsm/rsaPkcs1Signer.ts provides it).
 *
 * The ASN.1 structures are encoded with @peculiar/asn1-schema and
 * @peculiar/asn1-x509 / asn1-csr: typed schemas that only encode and decode
 * (already in the dependency tree through @simplewebauthn/server). The
 * higher-level generators (@peculiar/x509, pkijs) sign through a WebCrypto
 * CryptoKey, which a PKCS#11 key is not; encoding the to-be-signed bytes
 * ourselves and signing them with the token keeps the key where it is
 * without a fake WebCrypto provider.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { X509Error } from './errors.js';

export interface CertificateSigner {
  /** DER SubjectPublicKeyInfo of the RSA key. */
  readonly spki: Uint8Array;
  /** RSASSA-PKCS1-v1_5 SHA-256 signature of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * sha256WithRSAEncryption, 1.2.840.113549.1.1.11, with NULL parameters (RFC 4055 5). Spelled out:
 * the `sha256WithRSAEncryption` constant of @peculiar/asn1-rsa 2.11.1 carries the OID of
 * sha512-256WithRSAEncryption (1.1.16); the OpenSSL test catches such a slip.
 */
export const SHA256_WITH_RSA_ENCRYPTION = '1.2.840.113549.1.1.11';
const DER_NULL = new Uint8Array([0x05, 0x00]);

export function signatureAlgorithm(): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA_ENCRYPTION, parameters: arrayBuffer(DER_NULL) });
}

/** The signer's public key as an ASN.1 SubjectPublicKeyInfo. */
export function subjectPublicKeyInfo(signer: CertificateSigner): SubjectPublicKeyInfo {
  try {
    return AsnConvert.parse(signer.spki, SubjectPublicKeyInfo);
  } catch (err) {
    throw new X509Error('X509_BAD_REQUEST', 'the signer has no valid SubjectPublicKeyInfo', { cause: err });
  }
}

/** DER of an ASN.1 value. */
export function der(value: unknown): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(value));
}

/** ArrayBuffer copy of bytes (the ASN.1 schemas hold BIT STRING and OCTET STRING contents as ArrayBuffer). */
export function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
