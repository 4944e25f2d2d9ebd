/**
 * OpenID Provider records: registered relying parties, pending authorization requests,
 * single-use authorization codes and access tokens (hashes only). No I/O.
 */
import type { AssuranceLevel } from './types.js';

export interface OidcClient {
  clientId: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  authMethod: 'client_secret_basic' | 'private_key_jwt';
  secretHash: string | null;
  jwks: string | null;
  scopes: string[];
  minLoa: AssuranceLevel;
  backchannelLogoutUri: string | null;
  /** Null for a client from the config file (GATEWAY_OIDC_CLIENTS_FILE) or another system action. */
  createdBy: string | null;
  createdAt: string;
  /** When an org-admin disabled it (issue 16): a disabled client is refused at every endpoint. */
  disabledAt: string | null;
}

/** An authorization request waiting for a sign-in: its parameters as JSON, read back with a schema. */
export interface OidcPendingRequest {
  clientId: string;
  params: string;
  createdAt: string;
  expiresAt: string;
  consumed: boolean;
}

export interface OidcCode {
  clientId: string;
  redirectUri: string;
  sessionHash: string;
  nonce: string | null;
  codeChallenge: string;
  scope: string;
  createdAt: string;
  expiresAt: string;
}

export interface OidcAccessToken {
  clientId: string;
  sessionHash: string;
  scope: string;
  createdAt: string;
  expiresAt: string;
  /** The authorization code it was issued from (a code used twice revokes it). */
  codeHash: string;
}
