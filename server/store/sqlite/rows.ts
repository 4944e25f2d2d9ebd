/**
 * Row -> domain mapping. better-sqlite3 returns `unknown`; every column is read through a typed
 * accessor so that a schema drift fails loudly instead of leaking a wrong type.
 */
import {
  ASSIGNED_ROLES,
  CREDENTIAL_STATES,
  IDENTITY_ASSURANCE_LEVELS,
  REASON_CODES,
  type AssignedRole,
  type Credential,
  type Identity,
  type Organisation,
  type ReasonCode,
} from '../../domain/types.js';
import { LANGUAGES } from '../../../i18n/languages.js';
import type { AuditEntry } from '../../audit/hashChain.js';
import type { JsonValue } from '../../audit/canonicalJson.js';
import { CEREMONIES, type ActivationCodeRecord, type ChallengeRecord, type CredentialEvent, type Enrolment } from '../../domain/keys.js';
import type { OutboxMessage } from '../../domain/outbox.js';
import type { SessionRecord } from '../../domain/sessions.js';

function field(row: unknown, key: string): unknown {
  if (typeof row !== 'object' || row === null) throw new TypeError(`store: row is not an object (reading ${key})`);
  return (row as Record<string, unknown>)[key];
}

export function str(row: unknown, key: string): string {
  const v = field(row, key);
  if (typeof v !== 'string') throw new TypeError(`store: column ${key} is not text`);
  return v;
}

export function strOrNull(row: unknown, key: string): string | null {
  const v = field(row, key);
  if (v === null) return null;
  if (typeof v !== 'string') throw new TypeError(`store: column ${key} is not text`);
  return v;
}

export function num(row: unknown, key: string): number {
  const v = field(row, key);
  if (v === null) return 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw new TypeError(`store: column ${key} is not a number`);
  return v;
}

export function numOrNull(row: unknown, key: string): number | null {
  return field(row, key) === null || field(row, key) === undefined ? null : num(row, key);
}

function bytes(row: unknown, key: string): Uint8Array {
  const v = field(row, key);
  if (!(v instanceof Uint8Array)) throw new TypeError(`store: column ${key} is not a blob`);
  return new Uint8Array(v);
}

export function oneOf<T extends string>(row: unknown, key: string, allowed: readonly T[]): T {
  const v = str(row, key);
  const hit = allowed.find((a) => a === v);
  if (hit === undefined) throw new TypeError(`store: column ${key} has unexpected value ${v}`);
  return hit;
}

function reasonOrNull(row: unknown, key: string): ReasonCode | null {
  return field(row, key) === null ? null : oneOf(row, key, REASON_CODES);
}

export function stringArray(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((x): x is string => typeof x === 'string')) {
    throw new TypeError('store: expected a JSON array of strings');
  }
  return parsed;
}

function jsonObject(text: string): { [key: string]: JsonValue } {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('store: expected a JSON object');
  return parsed as { [key: string]: JsonValue };
}

export function role(row: unknown): AssignedRole {
  return oneOf(row, 'role', ASSIGNED_ROLES);
}

export function organisation(r: unknown): Organisation {
  return { id: str(r, 'id'), cvr: str(r, 'cvr'), name: str(r, 'name'), createdAt: str(r, 'created_at') };
}

export function identity(r: unknown, roles: AssignedRole[]): Identity {
  return {
    id: str(r, 'id'),
    organisationId: str(r, 'organisation_id'),
    name: str(r, 'name'),
    email: str(r, 'email'),
    ial: oneOf(r, 'ial', IDENTITY_ASSURANCE_LEVELS),
    proofingMethod: str(r, 'proofing_method'),
    proofedBy: strOrNull(r, 'proofed_by'),
    bindingState: oneOf(r, 'binding_state', ['active', 'ended'] as const),
    roles,
    createdAt: str(r, 'created_at'),
    bindingEndedAt: strOrNull(r, 'binding_ended_at'),
    language: field(r, 'language') === null ? null : oneOf(r, 'language', LANGUAGES),
  };
}

export function credential(r: unknown): Credential {
  return {
    id: str(r, 'id'),
    identityId: str(r, 'identity_id'),
    credentialId: str(r, 'credential_id'),
    publicKey: bytes(r, 'public_key'),
    aaguid: str(r, 'aaguid'),
    signCount: num(r, 'sign_count'),
    transports: stringArray(str(r, 'transports')),
    backupEligible: num(r, 'backup_eligible') === 1,
    backupState: num(r, 'backup_state') === 1,
    attestationFormat: str(r, 'attestation_format'),
    attestationObject: bytes(r, 'attestation_object'),
    userVerifiedAtRegistration: num(r, 'uv_at_registration') === 1,
    label: str(r, 'label'),
    state: oneOf(r, 'state', CREDENTIAL_STATES),
    stateReason: reasonOrNull(r, 'state_reason'),
    createdAt: str(r, 'created_at'),
    updatedAt: str(r, 'updated_at'),
    activatedAt: strOrNull(r, 'activated_at'),
    lastUsedAt: strOrNull(r, 'last_used_at'),
    expiresAt: strOrNull(r, 'expires_at'),
    enrolmentId: strOrNull(r, 'enrolment_id'),
    aal: field(r, 'aal') === null ? null : oneOf(r, 'aal', IDENTITY_ASSURANCE_LEVELS),
    attestationVerified: num(r, 'attestation_verified') === 1,
    model: strOrNull(r, 'model'),
    certification: strOrNull(r, 'certification'),
    aalReasons: strOrNull(r, 'aal_reasons') === null ? [] : stringArray(str(r, 'aal_reasons')),
  };
}

export function credentialEvent(r: unknown): CredentialEvent {
  const from = strOrNull(r, 'from_state');
  return {
    id: num(r, 'id'),
    credentialId: str(r, 'credential_id'),
    action: str(r, 'action'),
    fromState: from === null ? null : oneOf(r, 'from_state', CREDENTIAL_STATES),
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

export function enrolment(r: unknown): Enrolment {
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
    ...enrolmentAttempts(r),
  };
}

export function enrolmentAttempts(r: unknown): { failedAttempts: number; lockedAt: string | null } {
  return { failedAttempts: num(r, 'failed_attempts'), lockedAt: strOrNull(r, 'locked_at') };
}

export function activationCode(r: unknown): ActivationCodeRecord {
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

export function challenge(r: unknown): ChallengeRecord {
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

export function session(r: unknown): SessionRecord {
  return {
    idHash: str(r, 'id_hash'),
    identityId: str(r, 'identity_id'),
    credentialId: str(r, 'credential_id'),
    aal: oneOf(r, 'aal', IDENTITY_ASSURANCE_LEVELS),
    amr: stringArray(str(r, 'amr')),
    sid: strOrNull(r, 'sid'),
    createdAt: str(r, 'created_at'),
    lastSeenAt: str(r, 'last_seen_at'),
    absoluteExpiresAt: str(r, 'absolute_expires_at'),
    endedAt: strOrNull(r, 'ended_at'),
    endReason: strOrNull(r, 'end_reason'),
  };
}

export function auditEntry(r: unknown): AuditEntry {
  return {
    seq: num(r, 'seq'),
    at: str(r, 'at'),
    type: str(r, 'type'),
    actorId: strOrNull(r, 'actor_id'),
    actorRole: str(r, 'actor_role'),
    subjectId: strOrNull(r, 'subject_id'),
    data: jsonObject(str(r, 'data')),
    prevHash: str(r, 'prev_hash'),
    hash: str(r, 'hash'),
  };
}

export function outbox(r: unknown): OutboxMessage {
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
