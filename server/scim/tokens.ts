/**
 * Bearer tokens of provisioning clients: `gwscim.<tokenId>.<secret>`. The token id (96 random
 * bits) finds the stored row; the secret (256 random bits) is stored only as an HMAC with the
 * gateway key, so a stolen database yields no usable token, and is compared in constant time.
 * Rotation: a client may hold several tokens (issue the new one, switch the client, revoke the
 * old one); each has its own id, expiry and revocation.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { hashesEqual, keyedHash } from '../security/oneTimeSecrets.js';
import type { ScimPrincipal, ScimTokenVerifier, TokenCheck } from './ports.js';

export const SCIM_TOKEN_PREFIX = 'gwscim';
const PURPOSE = 'scim-token';
const FORMAT = /^gwscim\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

export interface IssuedScimToken {
  /** The token to hand to the client once; never stored. */
  token: string;
  tokenId: string;
  /** HMAC-SHA-256 (hex) of the secret under the gateway key: what is stored. */
  secretHash: string;
}

export function hashScimSecret(key: Buffer, secret: string): string {
  return keyedHash(key, PURPOSE, secret);
}

export function issueScimToken(key: Buffer): IssuedScimToken {
  const tokenId = randomBytes(12).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { token: `${SCIM_TOKEN_PREFIX}.${tokenId}.${secret}`, tokenId, secretHash: hashScimSecret(key, secret) };
}

/** Splits a presented token; null when it is not of our format. */
export function parseScimToken(presented: string): { tokenId: string; secret: string } | null {
  const m = FORMAT.exec(presented);
  return m && m[1] && m[2] ? { tokenId: m[1], secret: m[2] } : null;
}

/** A stored token row as the verifier needs it. */
export interface StoredScimToken {
  tokenId: string;
  secretHash: string;
  principal: ScimPrincipal;
  /** ISO time after which the token is refused; null for none. */
  notAfter: string | null;
  revokedAt: string | null;
}

/** A verifier over a lookup by token id (the store's, in part 2). */
export function createTokenVerifier(lookup: (tokenId: string) => Promise<StoredScimToken | null>, key: Buffer, clock: Clock): ScimTokenVerifier {
  return {
    async verify(presented: string): Promise<TokenCheck> {
      const parts = parseScimToken(presented);
      if (!parts) return { ok: false, reason: 'malformed' };
      const row = await lookup(parts.tokenId);
      if (!row) return { ok: false, reason: 'unknown' };
      if (!hashesEqual(hashScimSecret(key, parts.secret), row.secretHash)) return { ok: false, reason: 'mismatch' };
      if (row.revokedAt !== null) return { ok: false, reason: 'revoked' };
      if (row.notAfter !== null && clock.now().getTime() >= Date.parse(row.notAfter)) return { ok: false, reason: 'expired' };
      return { ok: true, principal: row.principal };
    },
  };
}
