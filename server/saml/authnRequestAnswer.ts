/** Where and to what a Response answers: taken from a VerifiedAuthnRequest (or kept in the caller's session). */
import type { AnswerableRequest } from './errors.js';

export type AuthnRequestAnswer = AnswerableRequest;

/** The answer address of a verified request: its ID, issuer, the metadata ACS and the RelayState. */
export function answerFor(request: { id: string; issuer: string; acs: { location: string }; relayState?: string }): AuthnRequestAnswer {
  const answer: AuthnRequestAnswer = { id: request.id, issuer: request.issuer, acsUrl: request.acs.location };
  if (request.relayState !== undefined) answer.relayState = request.relayState;
  return answer;
}
