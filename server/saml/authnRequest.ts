/**
 * Receiving an AuthnRequest (saml-core 3.4.1, saml-profiles 4.1.4.1, the
 * OIOSAML 3 rules OS2faktor's AuthnRequestValidationService applies): it
 * must be signed by the SP (Redirect: SigAlg + Signature over the exact
 * query; POST: enveloped, each metadata certificate tried), from a known SP,
 * to an ACS of its metadata, recent, not replayed, not ForceAuthn together
 * with IsPassive, and its RequestedAuthnContext must be one this IdP can
 * meet. Returns a typed request, or throws a SamlError whose `answerTo` says
 * whether the refusal may be sent to the SP (only once the request is
 * authentic and its ACS comes from the metadata).
 */
import type { AssuranceLevel } from '../domain/types.js';
import { BINDING, NAMEID_FORMAT, NS, SAML_VERSION } from './constants.js';
import { type AnswerableRequest, SamlError } from './errors.js';
import type { BrokerLogEntry } from './brokerLog.js';
import type { ReplayStore } from './ports.js';
import { type RequestedContext, readRequestedContext } from './requestedAuthnContext.js';
import type { IndexedEndpoint, ServiceProvider } from './spMetadata.js';
import { type IncomingMessage, type ReceiveLimits, type ServiceProviderLookup, DEFAULT_RECEIVE_LIMITS, receiveSigned } from './bindings/receive.js';
import { attr, booleanAttr, instantAttr, optionalChild, requiredChild } from './xml/dom.js';

export interface AuthnRequestPolicy {
  /** The IdP's entityID. */
  idpEntityId: string;
  /** The SSO endpoint URLs the IdP publishes, per binding (Destination must be the one used). */
  ssoUrls: { redirect: string; post: string };
  /** The level the Local IdP is registered at in MitID Erhverv (the highest it can assert). */
  idpLevel: AssuranceLevel;
  /** Oldest accepted IssueInstant, in seconds before now (default 300). */
  maxAgeSeconds?: number;
  /** Tolerated clock difference for an IssueInstant ahead of ours, in seconds (default 60). */
  clockSkewSeconds?: number;
  /** NameIDPolicy formats accepted besides persistent and unspecified (e.g. the SP's configured format). */
  extraNameIdFormats?: readonly string[];
}

export interface ReceiveAuthnRequestDeps {
  lookup: ServiceProviderLookup;
  replay: ReplayStore;
  policy: AuthnRequestPolicy;
  now: Date;
  limits?: ReceiveLimits;
}

/** An authentic AuthnRequest from a registered SP, every rule checked. */
export interface VerifiedAuthnRequest {
  id: string;
  issuer: string;
  serviceProvider: ServiceProvider;
  binding: 'redirect' | 'post';
  issueInstant: Date;
  destination: string;
  /** The ACS the Response goes to: an endpoint of the SP's metadata (HTTP-POST). */
  acs: IndexedEndpoint;
  relayState?: string;
  forceAuthn: boolean;
  isPassive: boolean;
  /** NameIDPolicy/@Format, when given. */
  nameIdFormat?: string;
  requestedContext?: RequestedContext;
  /** The lowest level that satisfies the request (undefined: none asked for). */
  minimumLevel?: AssuranceLevel;
  signatureCertificateSha256: string;
  signatureAlgorithm: string;
  /** The broker-log entry of the accepted request (NSIS 6 (Low) 7). */
  log: BrokerLogEntry;
}

/** saml-core 1.3.4: xs:ID, an NCName; long IDs are refused. */
const XS_ID = /^[A-Za-z_][\w.-]{0,255}$/;

/**
 * saml-core 3.4.1: AssertionConsumerServiceURL (+ ProtocolBinding) or
 * AssertionConsumerServiceIndex, mutually exclusive; neither = the default
 * ACS. The answer always goes by HTTP-POST to an ACS the metadata lists.
 */
function resolveAcs(request: Element, sp: ServiceProvider): IndexedEndpoint {
  const url = attr(request, 'AssertionConsumerServiceURL');
  const indexText = attr(request, 'AssertionConsumerServiceIndex');
  const protocolBinding = attr(request, 'ProtocolBinding');
  if (url !== undefined && indexText !== undefined) throw new SamlError('SAML_MALFORMED', 'both AssertionConsumerServiceURL and AssertionConsumerServiceIndex');
  const post = sp.assertionConsumerServices.filter((a) => a.binding === BINDING.post);
  let acs: IndexedEndpoint | undefined;
  if (url !== undefined) {
    acs = post.find((a) => a.location === url);
    if (!acs) throw new SamlError('SAML_ACS_NOT_IN_METADATA', `AssertionConsumerServiceURL ${JSON.stringify(url.slice(0, 300))} is not an HTTP-POST ACS of the SP's metadata`);
  } else if (indexText !== undefined) {
    const index = Number(indexText);
    const byIndex = sp.assertionConsumerServices.find((a) => a.index === index);
    if (!byIndex) throw new SamlError('SAML_ACS_NOT_IN_METADATA', `AssertionConsumerServiceIndex ${indexText} is not in the SP's metadata`);
    acs = byIndex;
  } else {
    acs = post.find((a) => a.isDefault) ?? post[0];
    if (!acs) throw new SamlError('SAML_ACS_NOT_IN_METADATA', 'the SP has no HTTP-POST ACS');
  }
  if (acs.binding !== BINDING.post || (protocolBinding !== undefined && protocolBinding !== BINDING.post)) {
    // Answerable: the SP's default POST ACS is known.
    const fallback = post.find((a) => a.isDefault) ?? post[0];
    throw new SamlError('SAML_BINDING_UNSUPPORTED', 'responses are sent by HTTP-POST only', {
      answerTo: fallback ? { id: attr(request, 'ID') ?? '', issuer: sp.entityId, acsUrl: fallback.location } : undefined,
    });
  }
  return acs;
}

/** Re-throws a SamlError with the answer address, now that the request is authentic. */
function answerable(err: unknown, answerTo: AnswerableRequest): never {
  if (err instanceof SamlError && !err.answerTo) throw new SamlError(err.code, err.message, { cause: err.cause, answerTo });
  throw err;
}

/**
 * Receives an AuthnRequest by either binding and applies every rule. Throws
 * SamlError; see SAML_ERROR_RULES for the status of each code.
 */
export async function receiveAuthnRequest(deps: ReceiveAuthnRequestDeps, message: IncomingMessage): Promise<VerifiedAuthnRequest> {
  const { policy, now } = deps;
  const authentic = await receiveSigned(message, 'SAMLRequest', 'AuthnRequest', deps.lookup, deps.limits ?? DEFAULT_RECEIVE_LIMITS);
  const { element: request, serviceProvider: sp } = authentic;

  const id = attr(request, 'ID') ?? '';
  if (!XS_ID.test(id)) throw new SamlError('SAML_MALFORMED', 'the AuthnRequest ID is not an xs:ID');
  if (attr(request, 'Version') !== SAML_VERSION) throw new SamlError('SAML_UNSUPPORTED_VERSION', `Version ${attr(request, 'Version') ?? '(none)'}`);
  const issuerEl = requiredChild(request, NS.saml, 'Issuer');
  const issuerFormat = attr(issuerEl, 'Format');
  if (issuerFormat !== undefined && issuerFormat !== NAMEID_FORMAT.entity) throw new SamlError('SAML_MALFORMED', `Issuer Format ${issuerFormat}`);

  const acs = resolveAcs(request, sp);
  const answerTo: AnswerableRequest = { id, issuer: sp.entityId, acsUrl: acs.location };
  if (authentic.relayState !== undefined) answerTo.relayState = authentic.relayState;

  try {
    const issueInstant = instantAttr(request, 'IssueInstant');
    // saml-bindings 3.4.5.2 / 3.5.5.2: a signed message names its Destination, which must be us.
    const destination = attr(request, 'Destination');
    const expectedDestination = authentic.binding === 'redirect' ? policy.ssoUrls.redirect : policy.ssoUrls.post;
    if (destination !== expectedDestination) {
      throw new SamlError('SAML_DESTINATION_MISMATCH', `Destination ${JSON.stringify(destination ?? null)} is not ${expectedDestination}`);
    }
    const maxAgeMs = (policy.maxAgeSeconds ?? 300) * 1000;
    const skewMs = (policy.clockSkewSeconds ?? 60) * 1000;
    if (issueInstant.getTime() < now.getTime() - maxAgeMs) throw new SamlError('SAML_REQUEST_EXPIRED', `IssueInstant ${issueInstant.toISOString()} is too old`);
    if (issueInstant.getTime() > now.getTime() + skewMs) throw new SamlError('SAML_REQUEST_FROM_FUTURE', `IssueInstant ${issueInstant.toISOString()} is in the future`);

    // saml-profiles 4.1.4.5-style single use, keyed by SP and ID, remembered as long as the ID could be accepted.
    const fresh = await deps.replay.consume(`authn:${sp.entityId}:${id}`, new Date(issueInstant.getTime() + maxAgeMs + skewMs));
    if (!fresh) throw new SamlError('SAML_REPLAYED', `AuthnRequest ${id} from ${sp.entityId} was already received`);

    const forceAuthn = booleanAttr(request, 'ForceAuthn') ?? false;
    const isPassive = booleanAttr(request, 'IsPassive') ?? false;
    if (forceAuthn && isPassive) throw new SamlError('SAML_FORCE_AND_PASSIVE', 'ForceAuthn and IsPassive cannot both be true');

    const policyEl = optionalChild(request, NS.samlp, 'NameIDPolicy');
    const nameIdFormat = policyEl ? attr(policyEl, 'Format') : undefined;
    const acceptedFormats = new Set<string>([NAMEID_FORMAT.persistent, NAMEID_FORMAT.unspecified, ...(policy.extraNameIdFormats ?? [])]);
    if (nameIdFormat !== undefined && !acceptedFormats.has(nameIdFormat)) {
      throw new SamlError('SAML_NAMEID_POLICY_UNSUPPORTED', `NameID format ${nameIdFormat} is not offered`);
    }
    const requestedContext = readRequestedContext(request, policy.idpLevel);

    const verified: VerifiedAuthnRequest = {
      id,
      issuer: sp.entityId,
      serviceProvider: sp,
      binding: authentic.binding,
      issueInstant,
      destination,
      acs,
      forceAuthn,
      isPassive,
      signatureCertificateSha256: authentic.signatureCertificateSha256,
      signatureAlgorithm: authentic.signatureAlgorithm,
      log: {
        kind: 'AuthnRequest',
        direction: 'in',
        id,
        issuer: sp.entityId,
        destination,
        binding: authentic.binding,
        signatureCertificateSha256: authentic.signatureCertificateSha256,
      },
    };
    if (authentic.relayState !== undefined) verified.relayState = authentic.relayState;
    if (nameIdFormat !== undefined) verified.nameIdFormat = nameIdFormat;
    if (requestedContext) {
      verified.requestedContext = requestedContext;
      if (requestedContext.minimumLevel) verified.minimumLevel = requestedContext.minimumLevel;
    }
    return verified;
  } catch (err) {
    return answerable(err, answerTo);
  }
}
