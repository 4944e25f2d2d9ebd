/**
 * Synchronous verification of the gateway's own compact ES256 JWS (checkpoints made before
 * migration 9, signed key records, signed prunes): the verifier runs as one synchronous pass
 * over the database, so node:crypto rather than jose's async API.
 */
import { createHash, createPublicKey, verify as verifySignature, type JsonWebKey } from 'node:crypto';

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  input: string;
  signature: Buffer;
}

function object(text: string): Record<string, unknown> | undefined {
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...parsed } : undefined;
}

/** Splits and decodes a compact JWS without verifying it. */
export function decodeJws(jws: string): DecodedJws | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3) return undefined;
  const [h = '', p = '', s = ''] = parts;
  try {
    const header = object(Buffer.from(h, 'base64url').toString('utf8'));
    const payload = object(Buffer.from(p, 'base64url').toString('utf8'));
    if (!header || !payload) return undefined;
    return { header, payload, input: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
  } catch {
    return undefined;
  }
}

/**
 * Verifies an ES256 compact JWS with `jwk`; `typ`, when given, must match the header. Returns
 * the payload, or the problem in words.
 */
export function verifyEs256Jws(jws: string, kid: string, jwk: Readonly<Record<string, string>>, typ?: string): { payload: Record<string, unknown> } | { problem: string } {
  const decoded = decodeJws(jws);
  if (!decoded) return { problem: 'not a JWS' };
  if (decoded.header['alg'] !== 'ES256' || decoded.header['kid'] !== kid) return { problem: 'the header does not name ES256 and the expected key' };
  if (typ !== undefined && decoded.header['typ'] !== typ) return { problem: `the header's typ is not ${typ}` };
  try {
    const key = createPublicKey({ key: { ...jwk } as JsonWebKey, format: 'jwk' });
    if (!verifySignature('sha256', Buffer.from(decoded.input), { key, dsaEncoding: 'ieee-p1363' }, decoded.signature)) return { problem: 'the signature does not verify' };
  } catch {
    return { problem: 'the signature does not verify' };
  }
  return { payload: decoded.payload };
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
