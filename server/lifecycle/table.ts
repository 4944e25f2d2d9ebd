/**
 * The NSIS life cycle of a security key as ONE table (NSIS 2, 3.2.2, 3.2.3, 5.2).
 *
 * Every allowed transition is a row: from which states, the action, the resulting state, who may
 * take it, which reason codes it accepts, what evidence must be presented, extra guards, and the
 * clause it implements. Anything not in this table is refused with a stable error code.
 * docs/lifecycle.md renders this table for auditors (scripts/render-lifecycle.ts).
 */
import type { ActorRole, CredentialState, ReasonCode } from '../domain/types.js';

export const LIFECYCLE_ACTIONS = ['activate', 'suspend', 'request-reactivation', 'reactivate', 'revoke', 'expire'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

/** Evidence a row demands before the transition may happen. */
export type Evidence = 'possession' | 'second-channel-code';

/** Named guards over the key's current record. */
export type Guard = 'not-suspected-compromise' | 'not-binding-suspended';

/**
 * What taking a row does besides the guarded state change, its history row and its audit event,
 * all in the same transaction (applyTransition.ts carries them out; no flow re-implements one).
 */
export type Effect =
  /** NSIS 3.2.3 (Low) 1: the sessions established with the key end at once; every relying party of them is told. */
  | 'end-sessions'
  /** The key's open activation and reactivation codes are withdrawn. */
  | 'withdraw-codes'
  /** NSIS 3.2.3: the holder is mailed what happened, by whom and why; a revocation mail carries a signed receipt. */
  | 'notify-holder'
  /** NSIS 3.2.2, 3.2.3 (Low) 3: a fresh code goes to the holder through the second channel (older ones withdrawn). */
  | 'send-code'
  /** NSIS 3.2.3 (Low) 4: for a suspected clone, every helpdesk member is alerted. */
  | 'alert-helpdesk-on-clone';

export const EFFECTS: readonly Effect[] = ['end-sessions', 'withdraw-codes', 'notify-holder', 'send-code', 'alert-helpdesk-on-clone'];

/** The effects of every row that takes a key out of use (suspension, revocation). */
const OUT_OF_USE: readonly Effect[] = ['end-sessions', 'withdraw-codes', 'notify-holder'];

export interface TransitionRow {
  from: readonly CredentialState[];
  action: LifecycleAction;
  to: CredentialState;
  roles: readonly ActorRole[];
  reasons: readonly ReasonCode[];
  evidence: readonly Evidence[];
  guards: readonly Guard[];
  effects: readonly Effect[];
  clause: string;
  description: string;
}

const HOLDER_REVOKE_REASONS: readonly ReasonCode[] = ['lost', 'damaged', 'suspected-compromise', 'holder-request', 'replaced'];
const STAFF_REVOKE_REASONS: readonly ReasonCode[] = [
  'lost',
  'damaged',
  'suspected-compromise',
  'suspected-clone',
  'data-error',
  'agreement-ended',
  'holder-ceased',
  'employment-ended',
  'replaced',
  'holder-request',
  'other',
];

export const LIFECYCLE_TABLE: readonly TransitionRow[] = Object.freeze([
  {
    from: ['issued'],
    action: 'activate',
    to: 'active',
    roles: ['holder'],
    reasons: ['activated'],
    evidence: ['possession', 'second-channel-code'],
    guards: [],
    effects: ['notify-holder'],
    clause: 'NSIS 3.2.2 (Substantial) 2, (High) 3',
    description:
      'The holder proves possession with a user-verified assertion AND presents the activation code sent through an independent second channel.',
  },
  {
    from: ['active'],
    action: 'suspend',
    to: 'suspended',
    roles: ['holder'],
    reasons: ['lost', 'suspected-compromise', 'holder-request'],
    evidence: [],
    guards: [],
    effects: OUT_OF_USE,
    clause: 'NSIS 3.2.3 (Low) 1',
    description: 'The holder reports the key lost or compromised; effective at once.',
  },
  {
    from: ['active'],
    action: 'suspend',
    to: 'suspended',
    roles: ['helpdesk', 'org-admin', 'security-officer'],
    reasons: ['lost', 'suspected-compromise', 'suspected-clone', 'holder-request', 'other'],
    evidence: [],
    guards: [],
    effects: OUT_OF_USE,
    clause: 'NSIS 3.2.3 (Low) 1, (Substantial) 6',
    description: 'Staff suspend a key in a timely and effective manner, around the clock.',
  },
  {
    from: ['active'],
    action: 'suspend',
    to: 'suspended',
    roles: ['system'],
    reasons: ['suspected-clone', 'suspected-compromise'],
    evidence: [],
    guards: [],
    effects: [...OUT_OF_USE, 'alert-helpdesk-on-clone'],
    clause: 'NSIS 3.2.3 (Low) 4',
    description: 'The issuer acts on its own initiative on suspicion of compromise (e.g. a sign counter that went backwards).',
  },
  {
    from: ['issued'],
    action: 'request-reactivation',
    to: 'issued',
    roles: ['helpdesk', 'org-admin'],
    reasons: ['holder-request', 'other'],
    evidence: [],
    guards: [],
    effects: ['send-code'],
    clause: 'NSIS 3.2.2',
    description:
      'Staff send a fresh activation code for a key not yet activated (the first expired or was locked after wrong attempts); earlier codes are withdrawn.',
  },
  {
    from: ['suspended'],
    action: 'request-reactivation',
    to: 'suspended',
    roles: ['helpdesk', 'org-admin'],
    reasons: ['found', 'other'],
    evidence: [],
    guards: ['not-suspected-compromise', 'not-binding-suspended'],
    effects: ['send-code'],
    clause: 'NSIS 3.2.3 (Low) 3',
    description:
      'Staff start a reactivation: a fresh activation code goes to the holder through the second channel; staff never see it.',
  },
  {
    from: ['suspended'],
    action: 'request-reactivation',
    to: 'suspended',
    roles: ['holder'],
    reasons: ['found'],
    evidence: [],
    guards: ['not-suspected-compromise', 'not-binding-suspended'],
    effects: ['send-code'],
    clause: 'NSIS 3.2.3 (Low) 3',
    description:
      'The holder, signed in with another key, reports a lost key found: a fresh code goes through the second channel; possession and the code then reactivate it.',
  },
  {
    from: ['suspended'],
    action: 'reactivate',
    to: 'active',
    roles: ['holder'],
    reasons: ['found', 'other'],
    evidence: ['possession', 'second-channel-code'],
    guards: ['not-suspected-compromise', 'not-binding-suspended'],
    effects: ['notify-holder'],
    clause: 'NSIS 3.2.3 (Low) 3',
    description:
      'Reactivation only at the assurance of the first activation: possession plus a fresh second-channel code. A key suspected compromised or cloned can only be revoked.',
  },
  {
    from: ['issued', 'active', 'suspended'],
    action: 'revoke',
    to: 'revoked',
    roles: ['holder'],
    reasons: HOLDER_REVOKE_REASONS,
    evidence: [],
    guards: [],
    effects: OUT_OF_USE,
    clause: 'NSIS 3.2.3 (Low) 1, 4',
    description: 'The holder revokes their own key for good; a revocation receipt is sent.',
  },
  {
    from: ['issued', 'active', 'suspended'],
    action: 'revoke',
    to: 'revoked',
    roles: ['helpdesk', 'org-admin', 'security-officer'],
    reasons: STAFF_REVOKE_REASONS,
    evidence: [],
    guards: [],
    effects: OUT_OF_USE,
    clause: 'NSIS 3.2.3 (Low) 4, (Substantial) 7; 5.2 (Low) 3',
    description:
      'Staff revoke on compromise, loss, damage, wrong data, ended agreement or employment, or the holder ceasing to exist; a receipt goes to the holder.',
  },
  {
    from: ['issued', 'active', 'suspended'],
    action: 'revoke',
    to: 'revoked',
    roles: ['system'],
    reasons: ['employment-ended', 'suspected-compromise', 'suspected-clone', 'replaced'],
    evidence: [],
    guards: [],
    effects: [...OUT_OF_USE, 'alert-helpdesk-on-clone'],
    clause: 'NSIS 3.2.3 (Low) 4; 5.2 (Low) 3',
    description: 'The issuer revokes on its own initiative, e.g. every key of a binding that ended.',
  },
  {
    from: ['issued', 'active'],
    action: 'suspend',
    to: 'suspended',
    roles: ['provisioning'],
    reasons: ['binding-suspended'],
    evidence: [],
    guards: [],
    effects: OUT_OF_USE,
    clause: 'NSIS 3.2.3 (Low) 1; 5.2',
    description:
      'The organisation’s directory sets the person inactive (SCIM active=false): every key not yet out of use is suspended and its sessions end. Nobody reactivates such a key while the directory keeps the person inactive.',
  },
  {
    from: ['suspended'],
    action: 'request-reactivation',
    to: 'suspended',
    roles: ['provisioning'],
    reasons: ['binding-resumed'],
    evidence: [],
    guards: ['not-suspected-compromise'],
    effects: ['send-code'],
    clause: 'NSIS 3.2.3 (Low) 3',
    description:
      'The directory sets the person active again: each key the directory suspended gets a fresh code through the second channel; the holder reactivates it with possession and the code, as after any suspension.',
  },
  {
    from: ['issued', 'active', 'suspended'],
    action: 'revoke',
    to: 'revoked',
    roles: ['provisioning'],
    reasons: ['data-error', 'employment-ended'],
    evidence: [],
    guards: [],
    effects: OUT_OF_USE,
    clause: 'NSIS 3.2.3 (Low) 4; 5.2 (Low) 3',
    description:
      'The directory corrects the name the keys were issued on (data-error) or deletes the person, which ends the binding (employment-ended).',
  },
  {
    from: ['issued', 'active', 'suspended'],
    action: 'expire',
    to: 'expired',
    roles: ['system'],
    reasons: ['expired'],
    evidence: [],
    guards: [],
    effects: ['end-sessions', 'withdraw-codes'],
    clause: 'NSIS 2 (Expiry)',
    description: 'A key with an expiry date can no longer be used once it has passed.',
  },
] satisfies TransitionRow[]);

/** States from which no row leads anywhere. */
export const TERMINAL_STATES: readonly CredentialState[] = ['revoked', 'expired'];
