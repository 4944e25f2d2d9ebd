/**
 * HTTP-POST binding (saml-bindings 3.5): base64 of the XML message in a form
 * field, and the auto-submitting form that carries the IdP's answers.
 */
import { SamlError } from '../errors.js';
import { escapeXml } from '../xml/escape.js';
import type { MessageParameter } from './redirect.js';

export interface PostLimits {
  /** Largest accepted base64 field (characters). */
  maxFieldLength: number;
  maxRelayStateBytes: number;
}

export const DEFAULT_POST_LIMITS: PostLimits = Object.freeze({ maxFieldLength: 256 * 1024, maxRelayStateBytes: 80 });

export interface PostMessage {
  parameter: MessageParameter;
  xml: string;
  relayState?: string;
}

/** Decodes a received POST form's fields. Throws SamlError: SAML_MESSAGE_TOO_LARGE, SAML_MALFORMED. */
export function decodePost(fields: Readonly<Record<string, unknown>>, parameter: MessageParameter, limits: PostLimits = DEFAULT_POST_LIMITS): PostMessage {
  const value = fields[parameter];
  if (typeof value !== 'string' || value.length === 0) throw new SamlError('SAML_MALFORMED', `no ${parameter} field`);
  if (value.length > limits.maxFieldLength) throw new SamlError('SAML_MESSAGE_TOO_LARGE', `${parameter} is longer than ${limits.maxFieldLength}`);
  const compact = value.replace(/[\r\n\t ]+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new SamlError('SAML_MALFORMED', `${parameter} is not base64`);
  const message: PostMessage = { parameter, xml: Buffer.from(compact, 'base64').toString('utf8') };
  const relayState = fields.RelayState;
  if (relayState !== undefined) {
    if (typeof relayState !== 'string') throw new SamlError('SAML_MALFORMED', 'RelayState is not a string');
    if (Buffer.byteLength(relayState, 'utf8') > limits.maxRelayStateBytes) {
      throw new SamlError('SAML_MESSAGE_TOO_LARGE', `RelayState is longer than ${limits.maxRelayStateBytes} bytes`);
    }
    message.relayState = relayState;
  }
  return message;
}

export interface PostForm {
  action: string;
  fields: Record<string, string>;
}

/** The form fields for sending `xml` to `action` by HTTP-POST (3.5.4). */
export function encodePost(action: string, parameter: MessageParameter, xml: string, relayState?: string): PostForm {
  const fields: Record<string, string> = { [parameter]: Buffer.from(xml, 'utf8').toString('base64') };
  if (relayState !== undefined) fields.RelayState = relayState;
  return { action, fields };
}

/**
 * A minimal HTML page that posts the form (3.5.4); the script carries the
 * page's CSP nonce, and a button works without script.
 */
export function renderPostForm(form: PostForm, nonce: string): string {
  const inputs = Object.entries(form.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeXml(name)}" value="${escapeXml(value)}">`)
    .join('');
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>Sending…</title></head><body>' +
    `<form method="post" action="${escapeXml(form.action)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form>` +
    `<script nonce="${escapeXml(nonce)}">document.forms[0].submit()</script></body></html>`
  );
}
