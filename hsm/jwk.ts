/**
 * EC P-256 and RSA public keys as JWK (RFC 7517/7518) and their RFC 7638 thumbprint.
 */
import { createHash, createPublicKey } from 'node:crypto';

export interface EcP256PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  /** base64url of the 32-byte X coordinate */
  x: string;
  /** base64url of the 32-byte Y coordinate */
  y: string;
}

const COORDINATE_LENGTH = 32;
const UNCOMPRESSED_POINT_LENGTH = 1 + 2 * COORDINATE_LENGTH; // 04 || X || Y

/**
 * The uncompressed point from a CKA_EC_POINT value. PKCS#11 says the value is
 * the DER encoding of an OCTET STRING wrapping the point (04 41 04||X||Y);
 * some modules return the raw point (04||X||Y). Both are accepted; anything
 * else (compressed points, other curves) is refused.
 */
export function uncompressedPointFromEcPoint(ecPoint: Uint8Array): Uint8Array {
  const bytes = Uint8Array.from(ecPoint);
  if (bytes.length === UNCOMPRESSED_POINT_LENGTH && bytes[0] === 0x04) return bytes;
  if (
    bytes.length === UNCOMPRESSED_POINT_LENGTH + 2 &&
    bytes[0] === 0x04 && // OCTET STRING
    bytes[1] === UNCOMPRESSED_POINT_LENGTH &&
    bytes[2] === 0x04 // uncompressed point
  ) {
    return bytes.subarray(2);
  }
  throw new Error(`CKA_EC_POINT is not an uncompressed P-256 point (${bytes.length} bytes)`);
}

/** The JWK for a P-256 CKA_EC_POINT value (wrapped or raw); throws if the point is not on P-256. */
export function ecPointToJwk(ecPoint: Uint8Array): EcP256PublicJwk {
  const point = uncompressedPointFromEcPoint(ecPoint);
  const x = point.subarray(1, 1 + COORDINATE_LENGTH);
  const y = point.subarray(1 + COORDINATE_LENGTH);
  const jwk: EcP256PublicJwk = {
    kty: 'EC',
    crv: 'P-256',
    x: Buffer.from(x).toString('base64url'),
    y: Buffer.from(y).toString('base64url'),
  };
  // Refuses points that are not on the curve.
  createPublicKey({ key: { ...jwk }, format: 'jwk' });
  return jwk;
}

export interface RsaPublicJwk {
  kty: 'RSA';
  /** base64url of the modulus, unsigned big-endian without leading zero bytes */
  n: string;
  /** base64url of the public exponent, unsigned big-endian without leading zero bytes */
  e: string;
}

function unsignedBase64url(value: Uint8Array): string {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  return Buffer.from(value.subarray(start)).toString('base64url');
}

/**
 * The JWK for an RSA public key from CKA_MODULUS and CKA_PUBLIC_EXPONENT
 * (big-endian integers). Throws if either is zero or node:crypto does not
 * accept the key.
 */
export function rsaPublicJwk(modulus: Uint8Array, publicExponent: Uint8Array): RsaPublicJwk {
  if (!modulus.some((byte) => byte !== 0) || !publicExponent.some((byte) => byte !== 0)) {
    throw new Error('RSA modulus and public exponent must be non-zero');
  }
  const jwk: RsaPublicJwk = { kty: 'RSA', n: unsignedBase64url(modulus), e: unsignedBase64url(publicExponent) };
  createPublicKey({ key: { ...jwk }, format: 'jwk' });
  return jwk;
}

/**
 * RFC 7638 thumbprint: base64url(SHA-256) of the required members in
 * lexicographic order, no spaces (crv, kty, x, y for EC; e, kty, n for RSA).
 */
export function jwkThumbprint(jwk: EcP256PublicJwk | RsaPublicJwk): string {
  const canonical =
    jwk.kty === 'EC'
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}
