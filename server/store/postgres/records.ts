/** Row -> domain record mapping of the PostgreSQL adapter (column types: 0001_schema.sql). */
import { LANGUAGES } from '../../../i18n/languages.js';
import { APPROVAL_STATES, type ApprovalRecord } from '../../domain/approvals.js';
import type { AuditEntry } from '../../domain/audit.js';
import type { CheckpointRecord, PruneRecord } from '../../domain/checkpoints.js';
import { SETUP_ASPECTS, type SetupRecord } from '../../domain/identities.js';
import { CEREMONIES, type ActivationCodeRecord, type ChallengeRecord, type CredentialEvent, type Enrolment } from '../../domain/keys.js';
import type { OidcClient } from '../../domain/oidc.js';
import type { OutboxMessage } from '../../domain/outbox.js';
import type { SessionRecord } from '../../domain/sessions.js';
import { KEY_RECORD_EVENTS, SIGNING_KEY_STATES, type KeyRecordRow, type SigningKeyRecord } from '../../domain/signingKeys.js';
import {
  ASSIGNED_ROLES,
  CREDENTIAL_STATES,
  IDENTITY_ASSURANCE_LEVELS,
  REASON_CODES,
  type Credential,
  type Identity,
  type Organisation,
} from '../../domain/types.js';
import { APPROVAL_KINDS, STAFF_ROLES } from '../../duties/table.js';
import type { Row } from './pool.js';
import { bool, bytes, jsonObject, num, numOrNull, oneOf, oneOfOrNull, str, stringRecord, strings, strOrNull } from './rows.js';

export function organisation(r: Row): Organisation {
  return { id: str(r, 'id'), cvr: str(r, 'cvr'), name: str(r, 'name'), createdAt: str(r, 'created_at') };
}

/** An identities row with its `roles` (a text[] the query aggregated, sorted). */
export function identity(r: Row): Identity {
  const roles = r['roles'];
  if (!Array.isArray(roles)) throw new TypeError('store: identity row without its roles');
  return {
    id: str(r, 'id'),
    organisationId: str(r, 'organisation_id'),
    name: str(r, 'name'),
    email: str(r, 'email'),
    ial: oneOf(r, 'ial', IDENTITY_ASSURANCE_LEVELS),
    proofingMethod: str(r, 'proofing_method'),
    proofedBy: strOrNull(r, 'proofed_by'),
    bindingState: oneOf(r, 'binding_state', ['active', 'ended'] as const),
    roles: roles.map((role) => oneOf({ role }, 'role', ASSIGNED_ROLES)),
    createdAt: str(r, 'created_at'),
    bindingEndedAt: strOrNull(r, 'binding_ended_at'),
    language: oneOfOrNull(r, 'language', LANGUAGES),
  };
}

export function setup(r: Row): SetupRecord {
  return {
    identityId: str(r, 'identity_id'),
    aspect: oneOf(r, 'aspect', SETUP_ASPECTS),
    detail: strOrNull(r, 'detail'),
    setBy: strOrNull(r, 'set_by'),
    approvedBy: strOrNull(r, 'approved_by'),
    at: str(r, 'at'),
  };
}

export function credential(r: Row): Credential {
  return {
    id: str(r, 'id'),
    identityId: str(r, 'identity_id'),
    credentialId: str(r, 'credential_id'),
    publicKey: bytes(r, 'public_key'),
    aaguid: str(r, 'aaguid'),
    signCount: num(r, 'sign_count'),
    transports: strings(r, 'transports'),
    backupEligible: bool(r, 'backup_eligible'),
    backupState: bool(r, 'backup_state'),
    attestationFormat: str(r, 'attestation_format'),
    attestationObject: bytes(r, 'attestation_object'),
    userVerifiedAtRegistration: bool(r, 'uv_at_registration'),
    label: str(r, 'label'),
    state: oneOf(r, 'state', CREDENTIAL_STATES),
    stateReason: oneOfOrNull(r, 'state_reason', REASON_CODES),
    createdAt: str(r, 'created_at'),
    updatedAt: str(r, 'updated_at'),
    activatedAt: strOrNull(r, 'activated_at'),
    lastUsedAt: strOrNull(r, 'last_used_at'),
    expiresAt: strOrNull(r, 'expires_at'),
    enrolmentId: strOrNull(r, 'enrolment_id'),
    aal: oneOfOrNull(r, 'aal', IDENTITY_ASSURANCE_LEVELS),
    attestationVerified: bool(r, 'attestation_verified'),
    model: strOrNull(r, 'model'),
    certification: strOrNull(r, 'certification'),
    aalReasons: r['aal_reasons'] === null ? [] : strings(r, 'aal_reasons'),
  };
}

export function credentialEvent(r: Row): CredentialEvent {
  return {
    id: num(r, 'id'),
    credentialId: str(r, 'credential_id'),
    action: str(r, 'action'),
    fromState: oneOfOrNull(r, 'from_state', CREDENTIAL_STATES),
    toState: oneOf(r, 'to_state', CREDENTIAL_STATES),
    actorId: strOrNull(r, 'actor_id'),
    actorRole: str(r, 'actor_role'),
    reason: oneOf(r, 'reason', REASON_CODES),
    note: strOrNull(r, 'note'),
    clause: str(r, 'clause'),
    at: str(r, 'at'),
    auditSeq: num(r, 'audit_seq'),
  };
}

export function enrolment(r: Row): Enrolment {
  return {
    id: str(r, 'id'),
    identityId: str(r, 'identity_id'),
    createdBy: strOrNull(r, 'created_by'),
    replacesCredentialId: strOrNull(r, 'replaces_credential_id'),
    basis: strOrNull(r, 'basis'),
    createdAt: str(r, 'created_at'),
    expiresAt: str(r, 'expires_at'),
    consumedAt: strOrNull(r, 'consumed_at'),
    supersededAt: strOrNull(r, 'superseded_at'),
    failedAttempts: num(r, 'failed_attempts'),
    lockedAt: strOrNull(r, 'locked_at'),
  };
}

export function activationCode(r: Row): ActivationCodeRecord {
  return {
    id: str(r, 'id'),
    credentialId: str(r, 'credential_id'),
    purpose: oneOf(r, 'purpose', ['activate', 'reactivate'] as const),
    codeHash: str(r, 'code_hash'),
    requestedBy: strOrNull(r, 'requested_by'),
    createdAt: str(r, 'created_at'),
    expiresAt: str(r, 'expires_at'),
    failedAttempts: num(r, 'failed_attempts'),
    consumedAt: strOrNull(r, 'consumed_at'),
    supersededAt: strOrNull(r, 'superseded_at'),
    lockedAt: strOrNull(r, 'locked_at'),
  };
}

export function challenge(r: Row): ChallengeRecord {
  return {
    challenge: str(r, 'challenge'),
    flowHash: str(r, 'flow_hash'),
    ceremony: oneOf(r, 'ceremony', CEREMONIES),
    identityId: strOrNull(r, 'identity_id'),
    enrolmentId: strOrNull(r, 'enrolment_id'),
    createdAt: str(r, 'created_at'),
    expiresAt: str(r, 'expires_at'),
    consumedAt: strOrNull(r, 'consumed_at'),
  };
}

export function session(r: Row): SessionRecord {
  return {
    idHash: str(r, 'id_hash'),
    identityId: str(r, 'identity_id'),
    credentialId: str(r, 'credential_id'),
    aal: oneOf(r, 'aal', IDENTITY_ASSURANCE_LEVELS),
    amr: strings(r, 'amr'),
    sid: strOrNull(r, 'sid'),
    createdAt: str(r, 'created_at'),
    lastSeenAt: str(r, 'last_seen_at'),
    absoluteExpiresAt: str(r, 'absolute_expires_at'),
    endedAt: strOrNull(r, 'ended_at'),
    endReason: strOrNull(r, 'end_reason'),
  };
}

export function auditEntry(r: Row): AuditEntry {
  return {
    seq: num(r, 'seq'),
    at: str(r, 'at'),
    type: str(r, 'type'),
    actorId: strOrNull(r, 'actor_id'),
    actorRole: str(r, 'actor_role'),
    subjectId: strOrNull(r, 'subject_id'),
    data: jsonObject(r, 'data'),
    prevHash: str(r, 'prev_hash'),
    hash: str(r, 'hash'),
  };
}

export function outbox(r: Row): OutboxMessage {
  return {
    id: str(r, 'id'),
    channel: oneOf(r, 'channel', ['email'] as const),
    recipient: str(r, 'recipient'),
    subject: str(r, 'subject'),
    body: strOrNull(r, 'body'),
    kind: str(r, 'kind'),
    createdAt: str(r, 'created_at'),
    attempts: num(r, 'attempts'),
    nextAttemptAt: str(r, 'next_attempt_at'),
    sentAt: strOrNull(r, 'sent_at'),
    lastError: strOrNull(r, 'last_error'),
    receiptClaims: strOrNull(r, 'receipt_claims'),
    secretRef: strOrNull(r, 'secret_ref'),
  };
}

export function checkpoint(r: Row): CheckpointRecord {
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

export function prune(r: Row): PruneRecord {
  return {
    id: num(r, 'id'),
    throughSeq: num(r, 'through_seq'),
    anchorCheckpointId: num(r, 'anchor_checkpoint_id'),
    at: str(r, 'at'),
    jws: strOrNull(r, 'jws'),
  };
}

export function signingKey(r: Row): SigningKeyRecord {
  return {
    kid: str(r, 'kid'),
    ckaId: str(r, 'cka_id'),
    label: str(r, 'label'),
    alg: str(r, 'alg'),
    publicJwk: stringRecord(r, 'public_jwk'),
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

export function keyRecord(r: Row): KeyRecordRow {
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

export function approval(r: Row): ApprovalRecord {
  return {
    id: str(r, 'id'),
    kind: oneOf(r, 'kind', APPROVAL_KINDS),
    payload: str(r, 'payload'),
    summary: str(r, 'summary'),
    items: strings(r, 'items'),
    subjects: strings(r, 'subjects'),
    requestedBy: str(r, 'requested_by'),
    requestedRole: oneOf(r, 'requested_role', STAFF_ROLES),
    requestedAt: str(r, 'requested_at'),
    state: oneOf(r, 'state', APPROVAL_STATES),
    decidedBy: strOrNull(r, 'decided_by'),
    decidedRole: oneOfOrNull(r, 'decided_role', STAFF_ROLES),
    decidedAt: strOrNull(r, 'decided_at'),
    result: strOrNull(r, 'result'),
  };
}

export function oidcClient(r: Row): OidcClient {
  return {
    clientId: str(r, 'client_id'),
    name: str(r, 'name'),
    redirectUris: strings(r, 'redirect_uris'),
    postLogoutRedirectUris: strings(r, 'post_logout_redirect_uris'),
    authMethod: oneOf(r, 'auth_method', ['client_secret_basic', 'private_key_jwt'] as const),
    secretHash: strOrNull(r, 'secret_hash'),
    jwks: strOrNull(r, 'jwks'),
    scopes: strings(r, 'scopes'),
    minLoa: oneOf(r, 'min_loa', IDENTITY_ASSURANCE_LEVELS),
    backchannelLogoutUri: strOrNull(r, 'backchannel_logout_uri'),
    createdBy: strOrNull(r, 'created_by'),
    createdAt: str(r, 'created_at'),
    disabledAt: strOrNull(r, 'disabled_at'),
  };
}
