/**
 * Row -> domain mapping of the audit-side and console records: checkpoints, prunes, signing keys
 * and their signed records, approvals, OIDC clients, identity setups.
 */
import { APPROVAL_STATES, type ApprovalRecord } from '../../domain/approvals.js';
import type { CheckpointRecord, PruneRecord } from '../../domain/checkpoints.js';
import { SETUP_ASPECTS, type SetupRecord } from '../../domain/identities.js';
import type { OidcClient } from '../../domain/oidc.js';
import { KEY_RECORD_EVENTS, SIGNING_KEY_STATES, type KeyRecordRow, type SigningKeyRecord } from '../../domain/signingKeys.js';
import { IDENTITY_ASSURANCE_LEVELS } from '../../domain/types.js';
import { APPROVAL_KINDS, STAFF_ROLES } from '../../duties/table.js';
import { num, numOrNull, oneOf, str, stringArray, strOrNull } from './rows.js';

export function checkpoint(r: unknown): CheckpointRecord {
  return {
    id: num(r, 'id'),
    seq: num(r, 'seq'),
    headHash: str(r, 'head_hash'),
    at: str(r, 'at'),
    kid: str(r, 'kid'),
    jws: str(r, 'jws'),
    n: numOrNull(r, 'n'),
    prevHash: strOrNull(r, 'prev_hash'),
    note: strOrNull(r, 'note'),
  };
}

export function prune(r: unknown): PruneRecord {
  return {
    id: num(r, 'id'),
    throughSeq: num(r, 'through_seq'),
    anchorCheckpointId: num(r, 'anchor_checkpoint_id'),
    at: str(r, 'at'),
    jws: strOrNull(r, 'jws'),
  };
}

function jwkOf(text: string): Record<string, string> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('store: public_jwk is not an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function signingKey(r: unknown): SigningKeyRecord {
  return {
    kid: str(r, 'kid'),
    ckaId: str(r, 'cka_id'),
    label: str(r, 'label'),
    alg: str(r, 'alg'),
    publicJwk: jwkOf(str(r, 'public_jwk')),
    state: oneOf(r, 'state', SIGNING_KEY_STATES),
    createdAt: str(r, 'created_at'),
    promoteAt: strOrNull(r, 'promote_at'),
    activatedAt: strOrNull(r, 'activated_at'),
    retiredAt: strOrNull(r, 'retired_at'),
    publishedUntil: strOrNull(r, 'published_until'),
    destroyedAt: strOrNull(r, 'destroyed_at'),
    compromisedAt: strOrNull(r, 'compromised_at'),
  };
}

export function keyRecord(r: unknown): KeyRecordRow {
  return {
    id: num(r, 'id'),
    kid: str(r, 'kid'),
    event: oneOf(r, 'event', KEY_RECORD_EVENTS),
    at: str(r, 'at'),
    signerKid: str(r, 'signer_kid'),
    jws: str(r, 'jws'),
    hash: str(r, 'hash'),
    auditSeq: num(r, 'audit_seq'),
  };
}

export function approval(r: unknown): ApprovalRecord {
  const decidedRole = strOrNull(r, 'decided_role');
  return {
    id: str(r, 'id'),
    kind: oneOf(r, 'kind', APPROVAL_KINDS),
    payload: str(r, 'payload'),
    summary: str(r, 'summary'),
    items: stringArray(str(r, 'items')),
    subjects: stringArray(str(r, 'subjects')),
    requestedBy: str(r, 'requested_by'),
    requestedRole: oneOf(r, 'requested_role', STAFF_ROLES),
    requestedAt: str(r, 'requested_at'),
    state: oneOf(r, 'state', APPROVAL_STATES),
    decidedBy: strOrNull(r, 'decided_by'),
    decidedRole: decidedRole === null ? null : oneOf(r, 'decided_role', STAFF_ROLES),
    decidedAt: strOrNull(r, 'decided_at'),
    result: strOrNull(r, 'result'),
  };
}

export function oidcClient(r: unknown): OidcClient {
  return {
    clientId: str(r, 'client_id'),
    name: str(r, 'name'),
    redirectUris: stringArray(str(r, 'redirect_uris')),
    postLogoutRedirectUris: stringArray(str(r, 'post_logout_redirect_uris')),
    authMethod: oneOf(r, 'auth_method', ['client_secret_basic', 'private_key_jwt'] as const),
    secretHash: strOrNull(r, 'secret_hash'),
    jwks: strOrNull(r, 'jwks'),
    scopes: stringArray(str(r, 'scopes')),
    minLoa: oneOf(r, 'min_loa', IDENTITY_ASSURANCE_LEVELS),
    backchannelLogoutUri: strOrNull(r, 'backchannel_logout_uri'),
    createdBy: strOrNull(r, 'created_by'),
    createdAt: str(r, 'created_at'),
    disabledAt: strOrNull(r, 'disabled_at'),
  };
}

export function setup(r: unknown): SetupRecord {
  return {
    identityId: str(r, 'identity_id'),
    aspect: oneOf(r, 'aspect', SETUP_ASPECTS),
    detail: strOrNull(r, 'detail'),
    setBy: strOrNull(r, 'set_by'),
    approvedBy: strOrNull(r, 'approved_by'),
    at: str(r, 'at'),
  };
}
