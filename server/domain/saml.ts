/**
 * OIOSAML 3 identity-provider records (issue 15): registered service providers, AuthnRequests
 * waiting for a sign-in, message IDs seen (replay), the SPs each session was used with (single
 * logout) and the IdP's SAML signing keys. No I/O.
 */

/** Where a service provider's registration came from. */
export type SamlSpSource = 'config' | 'admin';

export interface SamlServiceProviderRecord {
  entityId: string;
  /** The validated ServiceProvider (server/saml ServiceProviderSchema) as JSON text, read back with the schema. */
  serviceProvider: string;
  /** Per-SP settings (server/flows/saml/spSettings.ts) as JSON text, read back with their schema. */
  settings: string;
  /** The metadata document as received (kept as evidence; its SHA-256 is in serviceProvider). */
  metadataXml: string;
  source: SamlSpSource;
  /** The identity that registered or last replaced it (null: the config file). */
  updatedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A verified AuthnRequest waiting for a sign-in: what answering it needs, as JSON text. */
export interface SamlPendingRequest {
  id: string;
  entityId: string;
  params: string;
  createdAt: string;
  expiresAt: string;
  consumed: boolean;
}

/** One SP a gateway session signed in to (saml-profiles 4.4: the session participants). */
export interface SamlParticipant {
  sessionHash: string;
  entityId: string;
  nameId: string;
  nameIdFormat: string;
  /** The SessionIndex the assertion carried. */
  sessionIndex: string;
  createdAt: string;
}

export const SAML_KEY_STATES = ['pending', 'active', 'retired', 'destroyed'] as const;
export type SamlKeyState = (typeof SAML_KEY_STATES)[number];

/** The IdP's SAML signing key (RSA in the HSM) and its certificate. */
export interface SamlKeyRecord {
  kid: string;
  ckaId: string;
  state: SamlKeyState;
  certificatePem: string;
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  destroyedAt: string | null;
}
