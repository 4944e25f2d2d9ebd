/**
 * The two costs both servers pay — HTTP and WebAuthn verification — split into their parts, so the
 * report says where the gateway pays more than the reference (issue 17: "the reference pays the
 * same" did not explain a gap). A sample of one of these costs is given to the part of the
 * innermost frame on its stack that a rule below recognises (so a socket write under res.json is
 * a socket write, JSON.stringify under it the answer's body).
 */

export interface StackFrame {
  /** Path relative to the repository (node_modules/…, server/…), `node:…`, or '' for native code. */
  file: string;
  fn: string;
}

type Rule = [part: string, test: (f: StackFrame) => boolean];

const fnIn =
  (...names: string[]) =>
  (f: StackFrame): boolean =>
    names.includes(f.fn);
const pkg = (name: string) => (f: StackFrame) => f.file.includes(`node_modules/${name}/`);

export const HTTP_PARTS = {
  socket: 'Socket writes of the answers (writev; the kernel wakes the client here)',
  headers: 'Response headers (set, checked, serialised: security headers, cookies, request id)',
  answer: 'Answer bodies (res.json: JSON.stringify, ETag, Content-Length)',
  body: 'Request bodies (read, content type, JSON.parse)',
  routing: 'Routing (Express app, routers, the exact-path table)',
  parse: 'Request line and headers (llhttp, IncomingMessage)',
  finish: 'End of each response (finish/close listeners, on-finished)',
  hooks: 'Async context hooks (promise hooks of AsyncLocalStorage)',
  loop: 'Event loop, streams and promises (Node internals)',
} as const;

export const WEBAUTHN_PARTS = {
  importKey: 'Public key import (WebCrypto importKey of a JWK, P-256 point check)',
  verify: 'ECDSA P-256 signature check (WebCrypto job)',
  digest: 'SHA-256 of client data and RP ID (WebCrypto jobs)',
  random: 'Challenge bytes (getRandomValues)',
  cbor: 'CBOR and authenticator data parsing (COSE key, flags, counter)',
  asn1: 'DER signature unwrapping (ASN.1)',
  base64: 'Base64url decoding and JSON of the client data',
  other: 'Other SimpleWebAuthn code (option building, comparisons)',
} as const;

const HTTP_RULES: Rule[] = [
  [HTTP_PARTS.hooks, (f) => f.file === 'node:internal/async_hooks' || f.file === 'node:internal/async_local_storage/async_hooks' || f.file === 'node:async_hooks'],
  [HTTP_PARTS.socket, fnIn('writev', 'writevGeneric', 'writeGeneric', 'Socket._writeGeneric', 'Socket._writev', 'Socket._write', 'writeUtf8String', 'writeLatin1String', 'writeBuffer', 'handleWriteReq')],
  [
    HTTP_PARTS.headers,
    (f) =>
      fnIn('setHeader', 'appendHeader', 'removeHeader', 'getHeader', '_storeHeader', 'processHeader', 'storeHeader', 'writeHead', '_implicitHeader', 'checkInvalidHeaderChar', 'checkIsHttpToken', 'validateHeaderName', 'validateHeaderValue')(f) ||
      (f.file === 'node_modules/express/lib/response.js' && ['header', 'set', 'append', 'res.get', 'get', 'res.set', 'res.header', 'res.append', 'cookie', 'vary', 'contentType', 'type'].includes(f.fn)) ||
      pkg('vary')(f) ||
      pkg('cookie')(f) ||
      pkg('cookie-signature')(f) ||
      pkg('mime-types')(f) ||
      pkg('mime-db')(f),
  ],
  [HTTP_PARTS.answer, (f) => (f.file === 'node_modules/express/lib/response.js' && ['send', 'json', 'stringify', 'res.send', 'res.json', 'status', 'res.status'].includes(f.fn)) || pkg('etag')(f) || pkg('fresh')(f) || f.file === 'node_modules/express/lib/utils.js'],
  [HTTP_PARTS.body, (f) => pkg('body-parser')(f) || pkg('raw-body')(f) || pkg('iconv-lite')(f) || pkg('content-type')(f) || pkg('type-is')(f) || pkg('media-typer')(f) || pkg('bytes')(f) || pkg('unpipe')(f)],
  [HTTP_PARTS.routing, (f) => pkg('router')(f) || pkg('express')(f) || pkg('parseurl')(f) || pkg('path-to-regexp')(f) || pkg('finalhandler')(f) || pkg('debug')(f) || pkg('qs')(f) || pkg('proxy-addr')(f) || pkg('forwarded')(f) || f.file === 'server/http/exactRoutes.ts'],
  [HTTP_PARTS.finish, (f) => pkg('on-finished')(f) || pkg('ee-first')(f) || fnIn('resOnFinish', 'emitCloseNT', 'onFinish', 'onceWrapper', 'clearIncoming', 'detachSocket')(f)],
  [HTTP_PARTS.parse, (f) => f.file === 'node:_http_common' || f.file === 'node:_http_incoming' || fnIn('parserOnIncoming', 'parserOnHeadersComplete', 'parserOnBody', 'parserOnMessageComplete', 'execute')(f)],
];

const WEBAUTHN_RULES: Rule[] = [
  [WEBAUTHN_PARTS.importKey, fnIn('importKey', 'ecImportKey', 'importJWKKey', 'initJwk', 'checkEcKeyData', 'createCryptoKey', 'importGenericSecretKey')],
  [WEBAUTHN_PARTS.verify, fnIn('verifyEC2', 'signVerify', 'ecdsaSignVerify', 'SignJob', 'verify')],
  [WEBAUTHN_PARTS.digest, fnIn('digest', 'asyncDigest', 'HashJob', 'toSHA256')],
  [WEBAUTHN_PARTS.random, fnIn('getRandomValues', 'randomFillSync', 'generateChallenge')],
  [WEBAUTHN_PARTS.cbor, (f) => /cbor/i.test(f.file) || fnIn('decodeCredentialPublicKey', 'parseAuthenticatorData', 'decodeAuthenticatorExtensions', 'convertCOSEtoPKCS')(f)],
  [WEBAUTHN_PARTS.asn1, (f) => f.file.includes('@peculiar/') || f.file.includes('/asn1js/') || f.file.includes('/pvtsutils/') || f.file.includes('/pvutils/')],
  [WEBAUTHN_PARTS.base64, (f) => f.file.includes('@hexagon/base64') || f.file.includes('isoBase64URL') || fnIn('decodeClientDataJSON')(f)],
];

/** The part of `cost` a sample belongs to (frames from the leaf up), or undefined for other costs. */
export function partOf(cost: string, frames: readonly StackFrame[]): string | undefined {
  const http = cost.startsWith('HTTP');
  const rules = http ? HTTP_RULES : cost.startsWith('WebAuthn') ? WEBAUTHN_RULES : undefined;
  if (!rules) return undefined;
  for (const f of frames) {
    const hit = rules.find(([, test]) => test(f));
    if (hit) return hit[0];
  }
  return http ? HTTP_PARTS.loop : WEBAUTHN_PARTS.other;
}
