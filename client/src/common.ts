// Shared client code: status/error regions, WebAuthn error wording and small formatting helpers
// (every word comes from the page language's catalogue in i18n/, dates and reason words too,
// shared with the mails). The API calls are in api.ts, who is signed in in session.ts (both
// re-exported here), the page header in header.ts.
import { WebAuthnError } from '@simplewebauthn/browser';
import { formatDateTime, formatDatesIn, reasonLabel, type Language } from '../../i18n/index.js';
// First: it picks the page language and fills the page's words before anything else draws.
import { fromServer, pageLanguage as i18nLanguage, t, tn } from './i18n.js';
import { noKeyAnswered, problemWords, serverDetailAdds, type Ceremony } from './messages.js';
import { ApiError, type CredentialState, type ProblemFieldError } from './api.js';
// Every page: table rows become labelled cards on a phone.
import './tables.js';

export * from './api.js';
export * from './session.js';

// ------------------------------------------------------- WebAuthn error words

/** Words for a failure of startRegistration / startAuthentication on the page of `ceremony`. */
export function webAuthnMessage(err: unknown, ceremony: Ceremony): string {
  if (err instanceof WebAuthnError) {
    switch (err.code) {
      case 'ERROR_CEREMONY_ABORTED':
        return t('webauthn.cancelled');
      case 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED':
        return t('webauthn.alreadyRegistered');
      case 'ERROR_INVALID_DOMAIN':
      case 'ERROR_INVALID_RP_ID':
        return t('webauthn.wrongDomain');
      case 'ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT':
        return t('webauthn.noDiscoverable');
      case 'ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT':
        return t('webauthn.noUserVerification');
      case 'ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG':
        return t('webauthn.noAlgorithm');
      default:
        break;
    }
  }
  const name = err instanceof Error ? err.name : '';
  if (name === 'NotAllowedError' || name === 'AbortError') return noKeyAnswered(ceremony);
  if (name === 'InvalidStateError') return t('webauthn.alreadyRegisteredShort');
  if (name === 'SecurityError') return t('webauthn.wrongDomain');
  if (err instanceof Error && /not supported/i.test(err.message)) return t('webauthn.notSupported');
  // The browser's own message is in the browser's language: shown as it is, in brackets.
  return err instanceof Error && err.message ? t('webauthn.failedWith', { message: err.message }) : t('webauthn.failed');
}

// ----------------------------------------------------- status / error regions

/** The element with this id; throws if the page does not have it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new TypeError(`Missing element #${id}`);
  return el as T;
}

/** Polite progress/success message in <p id="status" role="status">. */
export function setStatus(text: string): void {
  byId('status').textContent = text;
}

/** Clears #status, #error and any aria-invalid marks inside `scope`. */
export function clearMessages(scope: ParentNode = document): void {
  setStatus('');
  const error = byId('error');
  error.replaceChildren();
  scope.querySelectorAll('[aria-invalid="true"]').forEach((el) => el.removeAttribute('aria-invalid'));
}

export interface ShowErrorOptions {
  /** Form whose fields (by name) may be named in problem `errors[].path`. */
  form?: HTMLFormElement | null;
  /** Element to focus instead of the error text (e.g. the field the error is about). */
  focus?: HTMLElement | null;
  /** Field to mark aria-invalid (and focus, unless `focus` is given). */
  invalid?: HTMLElement | null;
  /** The page's security-key request, for the words when the key did not answer. */
  ceremony?: Ceremony;
  /** Sentence put before the message, e.g. "Your keys could not be loaded." */
  context?: string | undefined;
}

/**
 * Text to show for any error: the page's words for the problem code (messages.ts), else the
 * server's detail (or title); WebAuthn words; or a generic line.
 */
export function errorText(err: unknown, ceremony?: Ceremony): string {
  if (err instanceof ApiError) return problemWords(err.code) ?? (i18nLanguage() === 'en' ? err.message : err.fallback);
  if (ceremony) return webAuthnMessage(err, ceremony);
  if (err instanceof Error && err.message) return err.message;
  return t('common.error.generic');
}

/**
 * The server's own detail when the page shows the catalogue's words for its code instead and the
 * detail adds something (attempts left, which field): the server writes English, so on a page in
 * another language it is given as the server's words, marked as English.
 */
function serverDetail(err: unknown): string | undefined {
  if (!(err instanceof ApiError) || !err.detail || i18nLanguage() === 'en') return undefined;
  // Which field and why are in the field messages, already in the page's language (issue 16).
  if (err.code === 'VALIDATION_FAILED' && err.errors.length > 0 && err.language === i18nLanguage()) return undefined;
  return serverDetailAdds(err.code) ? err.detail : undefined;
}

/**
 * Shows the error in <p id="error" role="alert">, marks named fields invalid and
 * moves focus to the first invalid field (or to the error text).
 */
export function showError(err: unknown, opts: ShowErrorOptions = {}): void {
  setStatus('');
  const error = byId('error');
  const text = errorText(err, opts.ceremony);
  // The server's own words (an English page shows its detail as the message): marked as the server's.
  const fromTheServer = err instanceof ApiError && text === err.message && (err.detail !== undefined || err.title !== undefined);
  const message: Node = fromTheServer ? fromServer(text) : document.createTextNode(text);
  const parts: Node[] = opts.context ? tn('common.error.withContext', { context: opts.context, text: message }) : [message];
  const detail = serverDetail(err);
  if (detail) parts.push(document.createTextNode(' '), ...tn('common.error.serverSaid', { detail: fromServer(detail) }));
  let firstField: HTMLElement | null = opts.invalid ?? null;
  firstField?.setAttribute('aria-invalid', 'true');
  if (err instanceof ApiError) {
    for (const fe of err.errors) {
      parts.push(document.createElement('br'), ...fieldErrorText(fe, opts.form, err.language));
      const field = fieldFor(fe.path, opts.form);
      if (field) {
        field.setAttribute('aria-invalid', 'true');
        firstField ??= field;
      }
    }
  }
  error.replaceChildren(...parts);
  const target = opts.focus ?? firstField ?? error;
  if (target === error) error.tabIndex = -1;
  target.focus();
  if (target instanceof HTMLInputElement) target.select();
}

function fieldFor(path: string, form: HTMLFormElement | null | undefined): HTMLElement | null {
  if (!form) return null;
  const name = path.replace(/^\/?(body[./])?/, '').split(/[./]/)[0] ?? '';
  if (!name) return null;
  const el = form.elements.namedItem(name);
  return el instanceof HTMLElement ? el : null;
}

/** "Label: message": the field by its label on this page; the message is the server's (English). */
function fieldErrorText(fe: ProblemFieldError, form: HTMLFormElement | null | undefined, language: string | undefined): Node[] {
  const field = fieldFor(fe.path, form);
  const labelText = field?.id ? document.querySelector(`label[for="${CSS.escape(field.id)}"]`)?.textContent?.trim() : undefined;
  // The server answers field messages in the page's language (issue 16); else they are its English words.
  const message = language === i18nLanguage() ? document.createTextNode(fe.message) : fromServer(fe.message);
  return tn('common.error.field', { field: labelText || fe.path, message });
}
// ------------------------------------------------------------------ helpers

/** Disables the button while `work` runs and marks the form busy. */
export async function busy<T>(button: HTMLButtonElement, form: HTMLElement | null, work: () => Promise<T>): Promise<T> {
  button.disabled = true;
  form?.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    form?.removeAttribute('aria-busy');
  }
}

/** The language of this page (`<html lang>`): dates and words follow it. */
export function pageLanguage(): Language {
  return i18nLanguage();
}

/** Date and time in the page language's one format (i18n/dates.ts), in the reader's time zone. */
export function formatDate(iso: string | null | undefined, fallback = t('common.none')): string {
  return formatDateTime(iso, { language: pageLanguage() }, fallback);
}

/** A server's text with every ISO instant in it written in the page language's date format. */
export function withPageDates(text: string): string {
  return formatDatesIn(text, { language: pageLanguage() });
}

/** A <time> element with the ISO value in datetime and the page language's text. */
export function timeElement(iso: string | null | undefined, fallback = t('common.none')): HTMLElement | Text {
  if (!iso) return document.createTextNode(fallback);
  const time = document.createElement('time');
  time.dateTime = iso;
  time.textContent = formatDate(iso, fallback);
  return time;
}

/** The words for a reason code: the one table pages and mails share (i18n/reasons.ts). */
export function reasonWords(code: string | null | undefined, fallback = t('common.none')): string {
  return reasonLabel(code, pageLanguage(), fallback);
}

/** Makes a heading (or other element) focusable and focuses it, for announcing a new view. */
export function focusElement(el: HTMLElement): void {
  if (!el.hasAttribute('tabindex')) el.tabIndex = -1;
  el.focus();
}

/** The state of a security key in the page language. */
export function stateWords(state: CredentialState | string): string {
  return isCredentialState(state) ? t(`common.state.${state}`) : state;
}

function isCredentialState(s: string): s is CredentialState {
  return s === 'issued' || s === 'active' || s === 'suspended' || s === 'revoked' || s === 'expired';
}

export { fromServer, linkTo, t, tKey, tn, tp, wrapIn } from './i18n.js';
