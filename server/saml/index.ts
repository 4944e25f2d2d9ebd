/**
 * server/saml: the OIOSAML 3 identity provider core, pure over its ports
 * (SamlSigningKey for the HSM, ReplayStore, a ServiceProvider lookup).
 */
export * from './constants.js';
export { type SamlErrorCode, type SamlStatus, type AnswerableRequest, SAML_ERROR_RULES, SamlError, isSamlError } from './errors.js';
export type { SamlSigningKey, ReplayStore } from './ports.js';
export { loaName, levelFromName, levelFromClassRef, atLeast } from './levels.js';
export {
  type ServiceProvider,
  type Endpoint,
  type IndexedEndpoint,
  type ParseSpMetadataOptions,
  type ParsedSpMetadata,
  ServiceProviderSchema,
  EndpointSchema,
  parseSpMetadata,
} from './spMetadata.js';
export { type IncomingMessage, type ServiceProviderLookup, type ReceiveLimits, DEFAULT_RECEIVE_LIMITS } from './bindings/receive.js';
export { type RedirectLimits, DEFAULT_REDIRECT_LIMITS, decodeRedirect, encodeRedirect } from './bindings/redirect.js';
export { type PostForm, type PostLimits, DEFAULT_POST_LIMITS, decodePost, encodePost, renderPostForm } from './bindings/post.js';
export { type AuthnRequestPolicy, type ReceiveAuthnRequestDeps, type VerifiedAuthnRequest, receiveAuthnRequest } from './authnRequest.js';
export { type Comparison, type RequestedContext } from './requestedAuthnContext.js';
export { type AuthnRequestAnswer, answerFor } from './authnRequestAnswer.js';
export { type SamlAttribute, type AssertionInput, buildAssertion, assertionAttributes, newSamlId } from './assertion.js';
export { type EncryptionChoice, MODERN_ENCRYPTION, chooseEncryption, encryptAssertion } from './encryptAssertion.js';
export { type IssuedResponse, type SignInResult, type IssueResponseInput, issueAuthnResponse, issueErrorResponse, answerRefusal } from './authnResponse.js';
export { type BrokerLogEntry, type BrokerMessageKind, refusalLogEntry } from './brokerLog.js';
export { type ParseLimits, DEFAULT_PARSE_LIMITS, parseXml } from './xml/parse.js';
export { type IdpMetadataInput, DEFAULT_IDP_ATTRIBUTES, buildIdpMetadata, signIdpMetadata } from './idpMetadata.js';
export {
  type ReceiveLogoutDeps,
  type VerifiedLogoutRequest,
  type OutgoingLogoutRequestInput,
  type OutgoingMessage,
  receiveLogoutRequest,
  buildLogoutRequest,
  sloEndpointFor,
} from './logoutRequest.js';
export { type VerifiedLogoutResponse, type ReceivedStatus, buildLogoutResponse, receiveLogoutResponse } from './logoutResponse.js';
export { type AuthenticationDecision, type AuthenticationQuestion, AUTHENTICATION_TABLE, decideAuthentication, checkAchievedLevel } from './decideAuthentication.js';
