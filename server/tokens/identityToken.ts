/**
 * The identity token's claims (NSIS 6 (Low) 1-3, (Substantial) 9). Pure: the caller signs.
 */
import { randomUUID } from 'node:crypto';
import { loaUri, minLevel } from '../assurance/levels.js';
import type { AssuranceLevel, Identity, Organisation } from '../domain/types.js';

export interface IdentityTokenInput {
  issuer: string;
  audience: string;
  identity: Identity;
  organisation: Organisation;
  /** When the security-key sign-in behind this token happened. */
  authTime: Date;
  /** Authenticator assurance reached at that sign-in. */
  aal: AssuranceLevel;
  amr: string[];
  /** The broker's own federation assurance level (configuration). */
  fal: AssuranceLevel;
  now: Date;
  ttlSeconds: number;
}

export interface IdentityTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  auth_time: number;
  amr: string[];
  cvr: string;
  org_name: string;
  loa: string;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

export function identityTokenClaims(input: IdentityTokenInput): IdentityTokenClaims {
  const iat = seconds(input.now);
  return {
    iss: input.issuer,
    sub: input.identity.id,
    // NSIS 6 (Substantial) 9: the token is restricted to one named audience.
    aud: input.audience,
    iat,
    nbf: iat,
    exp: iat + input.ttlSeconds,
    jti: randomUUID(),
    auth_time: seconds(input.authTime),
    amr: input.amr,
    cvr: input.organisation.cvr,
    org_name: input.organisation.name,
    // NSIS 6 (Low) 2: the minimum over identity, authenticator and broker.
    loa: loaUri(minLevel(input.identity.ial, input.aal, input.fal)),
  };
}
