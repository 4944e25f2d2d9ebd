/**
 * The one error boundary (CONVENTIONS 5): typed errors become RFC 9457 problem+json with their
 * stable code; anything unexpected becomes a generic 500 with the detail only in the log.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { GatewayError, OidcRequestError, SamlAdminError, SamlRequestError } from '../errors.js';
import { StoreBusy, StoreConflict, StoreUnavailable } from '../ports/storeErrors.js';
import { CATALOGUES, text, type Language, type MessageKey, type SentenceKey } from '../../i18n/index.js';
import { sendErrorPage, wantsErrorPage } from './errorPage.js';
import { localisedFieldProblem } from './fieldMessages.js';
import { personLanguageOf, requestLanguage } from './views/language.js';
import type { Logger } from '../logger.js';
import { requestIdOf, requestLogger } from './requestLog.js';

/** RFC 9457 `title`: the status in words, in the answer's language. */
function titleOf(language: Language, status: number): string {
  const key = `problemTitle.${status}`;
  return isMessageKey(key) ? text(language, key as SentenceKey) : text(language, 'problemTitle.fallback');
}

function isMessageKey(key: string): key is MessageKey {
  return key in CATALOGUES.en;
}

/**
 * The problem+json answer, in `language` (issue 16: the request's language, problemLanguage).
 * The stable `code` (and `type`) never change with it. In English the detail is the server's
 * own (it is written for people and may carry facts, such as the attempts left); in another
 * language it is the code's sentence from the catalogue (i18n/<language>/problems.ts).
 */
export function sendProblem(res: Response, err: GatewayError, instance: string, language: Language): void {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.setHeader('Content-Language', language);
  res.vary('Accept-Language');
  res.vary('Cookie');
  res
    .status(err.status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: `urn:nsis-gateway:problem:${err.code.toLowerCase().replace(/_/g, '-')}`,
        title: titleOf(language, err.status),
        status: err.status,
        detail: language === 'en' ? err.detail : text(language, `problem.${err.code}`),
        // The server's own words, which may carry facts (the attempts left): the pages show them
        // after their own words for the code, marked as English (client/src/common.ts ApiError).
        ...(language === 'en' ? {} : { englishDetail: err.detail }),
        code: err.code,
        instance,
        // The same id is in the X-Request-Id header and on every log line of this request.
        ...(requestIdOf(res) ? { requestId: requestIdOf(res) } : {}),
        // Field messages in the answer's language; path and code stay as they are (issue 16).
        ...(err.errors && err.errors.length > 0 ? { errors: err.errors.map((e) => localisedFieldProblem(language, e)) } : {}),
        // RFC 6749 §4.1.2.1 error code of a refused OpenID Connect request, for OAuth libraries.
        ...(err instanceof OidcRequestError ? { error: err.oauthError, error_description: err.detail } : {}),
        // The SAML module's stable refusal code (server/saml/errors.ts), as the broker log records it.
        ...((err instanceof SamlRequestError || err instanceof SamlAdminError) && err.samlCode ? { samlCode: err.samlCode } : {}),
      }),
    );
}

/** Body-parser failures carry a `type` string; map the ones outside input can cause. */
function fromParserError(err: unknown): GatewayError | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  switch (err.type) {
    case 'entity.too.large':
      return new GatewayError('PAYLOAD_TOO_LARGE', 413, 'The request body is too large.');
    case 'entity.parse.failed':
      return new GatewayError('MALFORMED_JSON', 400, 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new GatewayError('UNSUPPORTED_MEDIA_TYPE', 415, 'Send the body as UTF-8 JSON.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new GatewayError('MALFORMED_JSON', 400, 'The request body could not be read.');
    default:
      return undefined;
  }
}

/**
 * A path whose percent-escapes do not decode (Express's router marks its URIError with status
 * 400): bad input, answered 400, never a 500 with a stack trace in the log (issue 13, 7).
 */
function fromPathError(err: unknown): GatewayError | undefined {
  if (err instanceof URIError && 'status' in err && err.status === 400) return malformedPath(err);
  return undefined;
}

export function malformedPath(cause?: unknown): GatewayError {
  return new GatewayError('MALFORMED_PATH', 400, 'The request path is not valid: it holds a percent-escape that does not decode.', { cause });
}

/**
 * The store port's typed failures (server/ports/storeErrors.ts): a database kept busy past the
 * adapter's bound (e.g. by a long writer) is a retryable 503, an unreachable one a 503 too, a
 * uniqueness raced by a concurrent change a 409; never a 500, whatever the engine.
 */
function fromStoreError(err: unknown): GatewayError | undefined {
  if (err instanceof StoreBusy) {
    return new GatewayError('SERVICE_UNAVAILABLE', 503, 'The gateway is busy; nothing was changed. Try again in a moment.', { cause: err, headers: { 'Retry-After': String(err.retryAfterSeconds) } });
  }
  if (err instanceof StoreUnavailable) {
    return new GatewayError('SERVICE_UNAVAILABLE', 503, 'The gateway cannot reach its database; nothing was changed. Try again shortly.', { cause: err, headers: { 'Retry-After': String(err.retryAfterSeconds) } });
  }
  if (err instanceof StoreConflict) return new GatewayError('CONFLICT', 409, 'Something changed at the same moment; nothing was changed. Reload and try again.', { cause: err });
  return undefined;
}

/**
 * A person's browser gets a page (issue 13 item 19), an API client problem+json; both in the
 * request's language (views/language.ts), else the signed-in person's, else the organisation's.
 */
function sendError(req: Request, res: Response, err: GatewayError, defaultLanguage: Language): void {
  const fallback = personLanguageOf(res) ?? defaultLanguage;
  if (wantsErrorPage(req, err)) sendErrorPage(res, err, requestIdOf(res), fallback);
  else sendProblem(res, err, req.path, requestLanguage(req, fallback));
}

/**
 * First in the chain: a path that does not percent-decode is refused before any router, static
 * file server or limiter reads it, so each of them need not handle it (issue 13, 7).
 */
export function refuseMalformedPath(): RequestHandler {
  return (req, _res, next) => {
    try {
      decodeURIComponent(req.path);
    } catch (err) {
      next(malformedPath(err));
      return;
    }
    next();
  };
}

/** `defaultLanguage`: the organisation's (GATEWAY_DEFAULT_LANGUAGE), for answers nothing else decides the language of. */
export function errorBoundary(baseLog: Logger, defaultLanguage: Language): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const log = requestLogger(res, baseLog);
    const known = err instanceof GatewayError ? err : (fromParserError(err) ?? fromPathError(err) ?? fromStoreError(err));
    if (known) {
      if (known.status >= 500) log.warn({ errorCode: known.code, path: req.path, err: known.cause ?? known.message }, 'request failed');
      sendError(req, res, known, defaultLanguage);
      return;
    }
    log.error({ err, path: req.path, method: req.method }, 'unexpected error');
    sendError(req, res, new GatewayError('INTERNAL_ERROR', 500, 'An unexpected error occurred; the request was not completed.'), defaultLanguage);
  };
}
