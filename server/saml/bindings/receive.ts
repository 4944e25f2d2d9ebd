/**
 * A signed SAML protocol message received from an SP by either binding, up
 * to an authentic element: decode, parse, find the SP by the (unverified)
 * Issuer, verify the signature with that SP's metadata certificates, and
 * hand back the element to read. For HTTP-Redirect the whole message is
 * covered by the query signature; for HTTP-POST only the element re-parsed
 * from the signed octets is returned (see xml/verifyEnveloped.ts).
 */
import { NS } from '../constants.js';
import { SamlError } from '../errors.js';
import type { ServiceProvider } from '../spMetadata.js';
import { requiredChild, textOf } from '../xml/dom.js';
import { DEFAULT_PARSE_LIMITS, parseXml } from '../xml/parse.js';
import { verifyEnveloped } from '../xml/verifyEnveloped.js';
import { type PostLimits, DEFAULT_POST_LIMITS, decodePost } from './post.js';
import { type MessageParameter, type RedirectLimits, DEFAULT_REDIRECT_LIMITS, decodeRedirect, verifyRedirectSignature } from './redirect.js';

/** A message as the HTTP layer received it. */
export type IncomingMessage =
  | { binding: 'redirect'; /** The raw query string, without "?", exactly as received. */ rawQuery: string }
  | { binding: 'post'; /** The parsed urlencoded form. */ fields: Readonly<Record<string, unknown>> };

/** Finds a registered SP by entityID (the caller's registry). */
export type ServiceProviderLookup = (entityId: string) => ServiceProvider | undefined | Promise<ServiceProvider | undefined>;

export interface ReceiveLimits {
  redirect: RedirectLimits;
  post: PostLimits;
}

export const DEFAULT_RECEIVE_LIMITS: ReceiveLimits = Object.freeze({ redirect: DEFAULT_REDIRECT_LIMITS, post: DEFAULT_POST_LIMITS });

export interface AuthenticMessage {
  binding: 'redirect' | 'post';
  /** The element to read (verified). */
  element: Element;
  serviceProvider: ServiceProvider;
  relayState?: string;
  /** SHA-256 of the SP certificate that verified the signature. */
  signatureCertificateSha256: string;
  signatureAlgorithm: string;
}

/** The issuer named in a not yet verified message (used only to pick the certificates). */
function unverifiedIssuer(root: Element): string {
  try {
    return textOf(requiredChild(root, NS.saml, 'Issuer'));
  } catch (err) {
    throw new SamlError('SAML_UNKNOWN_ISSUER', `<${root.localName}> names no Issuer`, { cause: err });
  }
}

/**
 * Receives a signed `localName` (samlp namespace) from an SP. Throws
 * SamlError (never answerable at this stage): SAML_MESSAGE_TOO_LARGE,
 * SAML_MALFORMED, SAML_XML_FORBIDDEN_CONSTRUCT, SAML_WRONG_MESSAGE_TYPE,
 * SAML_UNKNOWN_ISSUER, SAML_UNSIGNED, SAML_SIGNATURE_*.
 */
export async function receiveSigned(
  message: IncomingMessage,
  parameter: MessageParameter,
  localName: string,
  lookup: ServiceProviderLookup,
  limits: ReceiveLimits = DEFAULT_RECEIVE_LIMITS,
): Promise<AuthenticMessage> {
  const redirect = message.binding === 'redirect' ? decodeRedirect(message.rawQuery, parameter, limits.redirect) : undefined;
  const decoded = redirect ?? (message.binding === 'post' ? decodePost(message.fields, parameter, limits.post) : undefined);
  if (!decoded) throw new TypeError('unknown binding');
  const doc = parseXml(decoded.xml, DEFAULT_PARSE_LIMITS);
  const root = doc.documentElement;
  if (root.namespaceURI !== NS.samlp || root.localName !== localName) {
    throw new SamlError('SAML_WRONG_MESSAGE_TYPE', `expected <samlp:${localName}>, got <${root.localName}>`);
  }
  const issuer = unverifiedIssuer(root);
  const sp = await lookup(issuer);
  if (!sp) throw new SamlError('SAML_UNKNOWN_ISSUER', `no service provider is registered with entityID ${JSON.stringify(issuer.slice(0, 200))}`);

  let element: Element;
  let signatureCertificateSha256: string;
  let signatureAlgorithm: string;
  if (redirect) {
    const verified = verifyRedirectSignature(redirect, sp.signingCertificates);
    // saml-bindings 3.4.4.1: the query signature covers the whole deflated message.
    element = root;
    signatureCertificateSha256 = verified.certificateSha256;
    signatureAlgorithm = verified.sigAlg;
  } else {
    const verified = verifyEnveloped(decoded.xml, doc, { ns: NS.samlp, localName }, sp.signingCertificates);
    element = verified.element;
    signatureCertificateSha256 = verified.certificateSha256;
    signatureAlgorithm = verified.signatureAlgorithm;
  }
  // The Issuer of the authentic element must be the SP whose key verified it.
  if (textOf(requiredChild(element, NS.saml, 'Issuer')) !== sp.entityId) {
    throw new SamlError('SAML_SIGNATURE_WRAPPED', 'the signed Issuer is not the SP whose key verified the message');
  }
  const out: AuthenticMessage = { binding: message.binding, element, serviceProvider: sp, signatureCertificateSha256, signatureAlgorithm };
  if (decoded.relayState !== undefined) out.relayState = decoded.relayState;
  return out;
}
