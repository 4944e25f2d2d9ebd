export { buildRegistrationOptions, verifyRegistration } from './registration.js';
export type { RegisteredKey, RegistrationOptionsInput } from './registration.js';
export { backupEligibilityChange, buildAuthenticationOptions, verifyAssertion, counterWentBackwards, challengeOf } from './authentication.js';
export type { VerifiedAssertion } from './authentication.js';
