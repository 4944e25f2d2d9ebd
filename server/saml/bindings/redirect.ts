/**
 * HTTP-Redirect binding (saml-bindings 3.4): DEFLATE + base64 + URL encoding
 * of the message, and the signature over the query string.
 *
 * Received: the signature is checked over the EXACT octets of the query
 * string as received (3.4.4.1: "SAMLRequest=value&RelayState=value&SigAlg=value"
 * with the values as they were URL-encoded by the sender), never over a
 * re-encoding. Each parameter may appear once.
 *
 * Sent: the IdP's own LogoutRequest/LogoutResponse, signed by the HSM key.
 */
import { verify } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ACCEPTED_SIGNATURE_ALGORITHMS, ALG } from '../constants.js';
import { SamlError } from '../errors.js';
import type { SamlSigningKey } from '../ports.js';
import { certificateSha256 } from '../xml/verifyEnveloped.js';

export type MessageParameter = 'SAMLRequest' | 'SAMLResponse';

export interface RedirectLimits {
  /** Longest accepted query string (characters). */
  maxQueryLength: number;
  /** Largest inflated message (bytes). */
  maxInflatedBytes: number;
  /** Longest RelayState (bytes); saml-bindings 3.4.3 says 80. */
  maxRelayStateBytes: number;
}

export const DEFAULT_REDIRECT_LIMITS: RedirectLimits = Object.freeze({ maxQueryLength: 16 * 1024, maxInflatedBytes: 64 * 1024, maxRelayStateBytes: 80 });

export interface RedirectMessage {
  parameter: MessageParameter;
  /** The inflated XML. */
  xml: string;
  relayState?: string;
  /** Present when the query is signed. */
  signature?: { sigAlg: string; value: Buffer; signedOctets: Buffer };
}

const KNOWN = new Set(['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature']);

function decodeComponent(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (err) {
    throw new SamlError('SAML_MALFORMED', `${name} is not URL-encoded`, { cause: err });
  }
}

function strictBase64(value: string, name: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0 || value.length === 0) {
    throw new SamlError('SAML_MALFORMED', `${name} is not base64`);
  }
  return Buffer.from(value, 'base64');
}

/**
 * Splits the raw query string (without "?"), inflates the message and keeps
 * the signed octets. Throws SamlError: SAML_MESSAGE_TOO_LARGE, SAML_MALFORMED.
 */
export function decodeRedirect(rawQuery: string, parameter: MessageParameter, limits: RedirectLimits = DEFAULT_REDIRECT_LIMITS): RedirectMessage {
  if (rawQuery.length > limits.maxQueryLength) throw new SamlError('SAML_MESSAGE_TOO_LARGE', `the query string is longer than ${limits.maxQueryLength}`);
  const raw = new Map<string, string>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (!KNOWN.has(name)) continue;
    if (raw.has(name)) throw new SamlError('SAML_MALFORMED', `${name} appears more than once`);
    raw.set(name, eq < 0 ? '' : pair.slice(eq + 1));
  }
  const rawMessage = raw.get(parameter);
  if (!rawMessage) throw new SamlError('SAML_MALFORMED', `no ${parameter} parameter`);
  const other: MessageParameter = parameter === 'SAMLRequest' ? 'SAMLResponse' : 'SAMLRequest';
  if (raw.has(other)) throw new SamlError('SAML_MALFORMED', `both ${parameter} and ${other}`);

  const deflated = strictBase64(decodeComponent(rawMessage, parameter), parameter);
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(deflated, { maxOutputLength: limits.maxInflatedBytes });
  } catch (err) {
    if (err instanceof RangeError || (err instanceof Error && 'code' in err && err.code === 'ERR_BUFFER_TOO_LARGE')) {
      throw new SamlError('SAML_MESSAGE_TOO_LARGE', `the inflated ${parameter} is larger than ${limits.maxInflatedBytes} bytes`, { cause: err });
    }
    throw new SamlError('SAML_MALFORMED', `${parameter} is not DEFLATE-compressed`, { cause: err });
  }
  let xml: string;
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(inflated);
  } catch (err) {
    throw new SamlError('SAML_MALFORMED', `${parameter} is not UTF-8`, { cause: err });
  }

  const message: RedirectMessage = { parameter, xml };
  const rawRelay = raw.get('RelayState');
  if (rawRelay !== undefined) {
    const relayState = decodeComponent(rawRelay, 'RelayState');
    if (Buffer.byteLength(relayState, 'utf8') > limits.maxRelayStateBytes) {
      throw new SamlError('SAML_MESSAGE_TOO_LARGE', `RelayState is longer than ${limits.maxRelayStateBytes} bytes`);
    }
    message.relayState = relayState;
  }
  const rawSigAlg = raw.get('SigAlg');
  const rawSignature = raw.get('Signature');
  if (rawSigAlg !== undefined || rawSignature !== undefined) {
    if (!rawSigAlg || !rawSignature) throw new SamlError('SAML_MALFORMED', 'SigAlg and Signature must come together');
    // 3.4.4.1: the octets signed, in this order, with the values exactly as received.
    let octets = `${parameter}=${rawMessage}`;
    if (rawRelay !== undefined) octets += `&RelayState=${rawRelay}`;
    octets += `&SigAlg=${rawSigAlg}`;
    message.signature = {
      sigAlg: decodeComponent(rawSigAlg, 'SigAlg'),
      value: strictBase64(decodeComponent(rawSignature, 'Signature'), 'Signature'),
      signedOctets: Buffer.from(octets, 'utf8'),
    };
  }
  return message;
}

/**
 * Verifies the query signature against each certificate (PEM) in turn.
 * Returns the SHA-256 of the certificate that verified. Throws SamlError:
 * SAML_UNSIGNED, SAML_SIGNATURE_ALGORITHM_REFUSED, SAML_SIGNATURE_INVALID.
 */
export function verifyRedirectSignature(message: RedirectMessage, certificates: readonly string[]): { certificateIndex: number; certificateSha256: string; sigAlg: string } {
  const { signature } = message;
  if (!signature) throw new SamlError('SAML_UNSIGNED', `the ${message.parameter} query is not signed`);
  const hash = ACCEPTED_SIGNATURE_ALGORITHMS.get(signature.sigAlg);
  if (!hash) throw new SamlError('SAML_SIGNATURE_ALGORITHM_REFUSED', `SigAlg ${signature.sigAlg} is not accepted`);
  for (const [index, pem] of certificates.entries()) {
    try {
      if (verify(hash, signature.signedOctets, pem, signature.value)) {
        return { certificateIndex: index, certificateSha256: certificateSha256(pem), sigAlg: signature.sigAlg };
      }
    } catch {
      // A certificate that cannot verify this algorithm: try the next.
    }
  }
  throw new SamlError('SAML_SIGNATURE_INVALID', `the ${message.parameter} query signature does not verify with any of ${certificates.length} certificates`);
}

/**
 * Builds the signed redirect URL for a message the IdP sends (3.4.4.1):
 * deflated, base64, URL-encoded, RelayState, SigAlg rsa-sha256, Signature by
 * the HSM key over the exact query octets.
 */
export async function encodeRedirect(
  location: string,
  parameter: MessageParameter,
  xml: string,
  key: SamlSigningKey,
  relayState?: string,
): Promise<string> {
  let query = `${parameter}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`;
  if (relayState !== undefined) query += `&RelayState=${encodeURIComponent(relayState)}`;
  query += `&SigAlg=${encodeURIComponent(ALG.rsaSha256)}`;
  const signature = await key.sign(Buffer.from(query, 'utf8'));
  query += `&Signature=${encodeURIComponent(Buffer.from(signature).toString('base64'))}`;
  const url = new URL(location);
  return `${location}${url.search ? '&' : '?'}${query}`;
}
