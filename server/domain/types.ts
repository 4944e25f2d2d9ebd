/** Domain vocabulary shared by the core, the store and the edge. */
import type { Language } from '../../i18n/languages.js';

export const CREDENTIAL_STATES = ['issued', 'active', 'suspended', 'revoked', 'expired'] as const;
export type CredentialState = (typeof CREDENTIAL_STATES)[number];

/** Roles granted to identities by an organisation admin. */
export const ASSIGNED_ROLES = ['employee', 'helpdesk', 'security-officer', 'org-admin'] as const;
export type AssignedRole = (typeof ASSIGNED_ROLES)[number];

/**
 * The role an actor takes in one lifecycle action: an assigned role, `holder` (the key's own
 * employee), `system` (the gateway on its own initiative, NSIS 3.2.3 (Low) 4) or `provisioning`
 * (the organisation's directory through SCIM, issue 18: an actor of its own kind, never a person).
 */
export type ActorRole = 'holder' | 'helpdesk' | 'security-officer' | 'org-admin' | 'system' | 'provisioning';

export const REASON_CODES = [
  /** The state-history row of a key's registration (action `issue`): no lifecycle row accepts it. */
  'registered',
  'activated',
  'lost',
  'found',
  /** The key is broken or worn out: it is revoked and replaced. */
  'damaged',
  'suspected-compromise',
  'suspected-clone',
  'data-error',
  'agreement-ended',
  'holder-ceased',
  'employment-ended',
  'replaced',
  'holder-request',
  'expired',
  /** Issue 18: the organisation's directory set the person inactive (SCIM active=false). */
  'binding-suspended',
  /** Issue 18: the directory set the person active again; the holder reactivates with a fresh code. */
  'binding-resumed',
  'other',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export const IDENTITY_ASSURANCE_LEVELS = ['low', 'substantial', 'high'] as const;
export type AssuranceLevel = (typeof IDENTITY_ASSURANCE_LEVELS)[number];

export type BindingState = 'active' | 'ended';

export interface Organisation {
  id: string;
  cvr: string;
  name: string;
  createdAt: string;
}

export interface Identity {
  id: string;
  organisationId: string;
  name: string;
  email: string;
  ial: AssuranceLevel;
  proofingMethod: string;
  proofedBy: string | null;
  bindingState: BindingState;
  roles: AssignedRole[];
  createdAt: string;
  bindingEndedAt: string | null;
  /** The language of the person's mails (issue 16); null: not chosen, the organisation's default applies. */
  language: Language | null;
}

export interface Credential {
  id: string;
  identityId: string;
  credentialId: string;
  publicKey: Uint8Array;
  aaguid: string;
  signCount: number;
  transports: string[];
  backupEligible: boolean;
  backupState: boolean;
  attestationFormat: string;
  attestationObject: Uint8Array;
  userVerifiedAtRegistration: boolean;
  label: string;
  state: CredentialState;
  stateReason: ReasonCode | null;
  createdAt: string;
  updatedAt: string;
  activatedAt: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  enrolmentId: string | null;
  /** Authenticator assurance the policy granted at registration (null: registered before the policy). */
  aal: AssuranceLevel | null;
  attestationVerified: boolean;
  /** Vendor and model from the FIDO metadata, when known. */
  model: string | null;
  certification: string | null;
  aalReasons: string[];
}

/** Who did something, as recorded with every transition and audit event. */
export interface Actor {
  /** Identity id, or null for the system itself. */
  identityId: string | null;
  role: ActorRole;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ identityId: null, role: 'system' });
