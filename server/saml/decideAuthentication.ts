/**
 * What a verified AuthnRequest needs from the gateway, as a table: reuse the
 * person's session, run a fresh sign-in (a key touch), or answer NoPassive /
 * NoAuthnContext. ForceAuthn means a fresh key touch whatever the session
 * (saml-core 3.4.1); IsPassive forbids any interaction; the requested NSIS
 * level is a minimum that an existing session must already meet, and a
 * sign-in must reach, else NoAuthnContext, never a lower level.
 */
import type { AssuranceLevel } from '../domain/types.js';
import { STATUS } from './constants.js';
import type { SamlStatus } from './errors.js';
import { atLeast } from './levels.js';

export type AuthenticationDecision =
  | { action: 'reuse-session' }
  | { action: 'sign-in'; minimumLevel?: AssuranceLevel }
  | { action: 'refuse'; status: SamlStatus; reason: string };

export interface AuthenticationQuestion {
  forceAuthn: boolean;
  isPassive: boolean;
  minimumLevel?: AssuranceLevel;
  /** The person's current gateway session, if any, with the level it reached. */
  session?: { level: AssuranceLevel };
}

interface Row {
  when: (q: AuthenticationQuestion) => boolean;
  decide: (q: AuthenticationQuestion) => AuthenticationDecision;
  rule: string;
}

const sessionMeets = (q: AuthenticationQuestion): boolean => !!q.session && (!q.minimumLevel || atLeast(q.session.level, q.minimumLevel));
const signIn = (q: AuthenticationQuestion): AuthenticationDecision => (q.minimumLevel ? { action: 'sign-in', minimumLevel: q.minimumLevel } : { action: 'sign-in' });

/** First matching row wins. */
export const AUTHENTICATION_TABLE: readonly Row[] = [
  { rule: 'saml-core 3.4.1: ForceAuthn and IsPassive together are refused', when: (q) => q.forceAuthn && q.isPassive, decide: () => ({ action: 'refuse', status: { top: STATUS.requester }, reason: 'ForceAuthn with IsPassive' }) },
  { rule: 'saml-core 3.4.1: ForceAuthn: a fresh key touch', when: (q) => q.forceAuthn, decide: signIn },
  { rule: 'an existing session at the requested level is reused (single sign-on)', when: sessionMeets, decide: () => ({ action: 'reuse-session' }) },
  { rule: 'saml-core 3.4.1: IsPassive and a sign-in would be needed: NoPassive', when: (q) => q.isPassive, decide: () => ({ action: 'refuse', status: { top: STATUS.responder, second: STATUS.noPassive }, reason: 'a sign-in is needed' }) },
  { rule: 'otherwise: sign in (step up when the session is below the requested level)', when: () => true, decide: signIn },
];

export function decideAuthentication(question: AuthenticationQuestion): AuthenticationDecision {
  for (const row of AUTHENTICATION_TABLE) if (row.when(question)) return row.decide(question);
  throw new TypeError('the authentication table has no default row');
}

/**
 * After a sign-in: the level reached must meet the requested minimum
 * (OIOSAML 3: "loa at least the requested level"), else NoAuthnContext.
 */
export function checkAchievedLevel(achieved: AssuranceLevel, minimumLevel: AssuranceLevel | undefined): SamlStatus | undefined {
  if (!minimumLevel || atLeast(achieved, minimumLevel)) return undefined;
  return { top: STATUS.responder, second: STATUS.noAuthnContext };
}
