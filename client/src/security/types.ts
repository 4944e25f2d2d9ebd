/** The security page's API types (the answers of /api/security/*). */
import type { ApprovalFields } from '../duties.js';

export type KeyState = 'pending' | 'active' | 'retired' | 'destroyed';
export type RequestKind = 'rotation' | 'emergency-rotation' | 'destroy';
export type RequestState = 'pending' | 'executed' | 'rejected' | 'failed' | 'withdrawn';

export interface TokenAttributeCheck {
  token: string;
  status: 'ok' | 'unavailable';
  present: boolean;
  publicKeyPresent: boolean;
  ok: boolean;
  violations: string[];
}

export interface AttributeCheck {
  ok: boolean;
  violations: string[];
  error?: string;
  profile?: KeyPolicy;
  tokens?: TokenAttributeCheck[];
}

export type KeyPolicy = 'strict' | 'replicated';

export interface HsmOverview {
  keyPolicy: KeyPolicy;
  tokens: Array<{ name: string; tokenLabel: string; status: 'ok' | 'unavailable'; signing: boolean }>;
}

export interface SigningKey {
  kid: string;
  ckaId: string;
  label: string;
  alg: string;
  state: KeyState;
  createdAt: string;
  promoteAt: string | null;
  activatedAt: string | null;
  retiredAt: string | null;
  publishedUntil: string | null;
  destroyedAt: string | null;
  compromisedAt: string | null;
  attributeCheck: AttributeCheck | null;
}

export interface JwkSet {
  keys: Array<Record<string, unknown>>;
}

export interface KeyRequest extends ApprovalFields {
  id: string;
  kind: RequestKind;
  targetKid: string | null;
  reason: string;
  requestedBy: string;
  requestedByName?: string | null;
  requestedAt: string;
  state: RequestState;
  decidedBy: string | null;
  decidedByName?: string | null;
  decidedAt: string | null;
  result: string | null;
}

export interface AuditReport {
  ok: boolean;
  chain: { ok: boolean; entries: number; headHash?: string; firstBrokenSeq?: number; problem?: string };
  checkpoints: Array<{ id: number; seq: number; at: string; kid: string; ok: boolean; problem?: string }>;
  unanchoredEntries: number;
  truncated: boolean;
  problems: string[];
  anchor: { source: 'hsm' | 'file' | 'none'; description: string };
  witness: { source: string; checkpoints: number; matched: number } | null;
  notes: string[];
}
