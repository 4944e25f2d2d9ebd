// Shared client code: API fetch with RFC 9457 problem+json errors, status/error
// regions, page header/nav, WebAuthn error wording and small formatting helpers (dates and
// reason words come from i18n/, shared with the mails).
import { WebAuthnError } from '@simplewebauthn/browser';
import { formatDateTime, formatDatesIn, languageOf, reasonLabel, type Language } from '../../i18n/index.js';
import { noKeyAnswered, problemWords, type Ceremony } from './messages.js';
// Every page: table rows become labelled cards on a phone.
import './tables.js';

// ---------------------------------------------------------------- API types

export type CredentialState = 'issued' | 'active' | 'suspended' | 'revoked' | 'expired';

export interface Identity {
  id: string;
  name: string;
  email: string;
  roles: string[];
}

export interface Credential {
  id: string;
  label: string;
  state: CredentialState;
  stateReason: string | null;
  aaguid: string;
  model: string | null;
  createdAt: string;
  activatedAt: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  current: boolean;
}

export interface ProblemFieldError {
  path: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: ProblemFieldError[];
}

/** An API call that did not succeed. `status` is 0 when the server could not be reached. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly errors: ProblemFieldError[];

  constructor(status: number, problem: Problem, fallback: string) {
    super(problem.detail || problem.title || fallback);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

const isJson = (res: Response): boolean => /[/+]json\b/i.test(res.headers.get('content-type') ?? '');

function fallbackMessage(status: number): string {
  if (status === 401) return 'You are not signed in, or your session has ended.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'The server could not find what was asked for (HTTP 404).';
  if (status === 429) return 'Too many attempts. Wait a little and try again.';
  if (status >= 500) return `The server had a problem (HTTP ${status}). Try again later.`;
  return `The request failed (HTTP ${status}).`;
}

/**
 * Same-origin JSON call to the gateway API. Resolves with the parsed body (or
 * undefined for 204); rejects with ApiError carrying the problem details.
 */
export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  const init: RequestInit = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, {}, 'Could not reach the server. Check your network connection and try again.');
  }
  if (res.ok) {
    if (res.status === 204) return undefined as T;
    if (!isJson(res)) {
      throw new ApiError(res.status, {}, 'The server sent an unexpected answer. Try again later.');
    }
    try {
      return (await res.json()) as T;
    } catch {
      throw new ApiError(res.status, {}, 'The server sent an answer that could not be read. Try again later.');
    }
  }
  let problem: Problem = {};
  if (isJson(res)) {
    try {
      const parsed: unknown = await res.json();
      if (parsed && typeof parsed === 'object') problem = parsed as Problem;
    } catch {
      /* keep the generic message */
    }
  }
  noteSessionAnswer(path, res.status, problem.code);
  throw new ApiError(res.status, problem, fallbackMessage(res.status));
}

// ------------------------------------------------------- WebAuthn error words

/** Words for a failure of startRegistration / startAuthentication on the page of `ceremony`. */
export function webAuthnMessage(err: unknown, ceremony: Ceremony): string {
  if (err instanceof WebAuthnError) {
    switch (err.code) {
      case 'ERROR_CEREMONY_ABORTED':
        return 'The security key request was cancelled.';
      case 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED':
        return 'This security key is already registered. Use a different key, or use this key to sign in.';
      case 'ERROR_INVALID_DOMAIN':
      case 'ERROR_INVALID_RP_ID':
        return 'Security keys cannot be used on this web address. Contact the helpdesk.';
      case 'ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT':
        return 'This security key cannot store a sign-in credential on the key itself. Use a FIDO2 security key that supports it.';
      case 'ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT':
        return 'This security key cannot verify you with a PIN or fingerprint. Use a FIDO2 security key with a PIN.';
      case 'ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG':
        return 'This security key does not support the required signature algorithm. Use a different key.';
      default:
        break;
    }
  }
  const name = err instanceof Error ? err.name : '';
  if (name === 'NotAllowedError' || name === 'AbortError') return noKeyAnswered(ceremony);
  if (name === 'InvalidStateError') {
    return 'This security key is already registered. Use a different key.';
  }
  if (name === 'SecurityError') {
    return 'Security keys cannot be used on this web address. Contact the helpdesk.';
  }
  if (err instanceof Error && /not supported/i.test(err.message)) {
    return 'This browser cannot use security keys. Use a current version of Chrome, Edge, Firefox or Safari.';
  }
  const message = err instanceof Error && err.message ? ` (${err.message})` : '';
  return `The security key could not be used${message}. Try again.`;
}

// ----------------------------------------------------- status / error regions

/** The element with this id; throws if the page does not have it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`Missing element #${id}`);
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
  context?: string;
}

/**
 * Text to show for any error: the page's words for the problem code (messages.ts), else the
 * server's detail (or title); WebAuthn words; or a generic line.
 */
export function errorText(err: unknown, ceremony?: Ceremony): string {
  if (err instanceof ApiError) return problemWords(err.code) ?? err.message;
  if (ceremony) return webAuthnMessage(err, ceremony);
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong. Try again.';
}

/**
 * Shows the error in <p id="error" role="alert">, marks named fields invalid and
 * moves focus to the first invalid field (or to the error text).
 */
export function showError(err: unknown, opts: ShowErrorOptions = {}): void {
  setStatus('');
  const error = byId('error');
  const text = errorText(err, opts.ceremony);
  const parts: Node[] = [document.createTextNode(opts.context ? `${opts.context} ${text}` : text)];
  let firstField: HTMLElement | null = opts.invalid ?? null;
  firstField?.setAttribute('aria-invalid', 'true');
  if (err instanceof ApiError) {
    for (const fe of err.errors) {
      parts.push(document.createElement('br'), document.createTextNode(fieldErrorText(fe, opts.form)));
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

function fieldErrorText(fe: ProblemFieldError, form: HTMLFormElement | null | undefined): string {
  const field = fieldFor(fe.path, form);
  const labelText = field?.id ? document.querySelector(`label[for="${CSS.escape(field.id)}"]`)?.textContent?.trim() : undefined;
  return `${labelText || fe.path}: ${fe.message}`;
}

// -------------------------------------------------------------- header / nav

export type PageName = 'signin' | 'enrol' | 'activate' | 'keys' | 'security' | 'helpdesk' | 'admin';

/** GET /api/me: who is signed in, with which key. */
export interface Me {
  identity: Identity;
  session: { credentialId: string };
}

/** Who sees a header link: everyone, only someone not signed in, or a signed-in person with a role. */
type Audience = 'anyone' | 'signed-out' | { role: string };

interface NavItem {
  href: string;
  text: string;
  page: PageName;
  /** Role links are only hints: the server checks the role again on every call. */
  audience: Audience;
}

const NAV: ReadonlyArray<NavItem> = [
  { href: '/', text: 'Sign in', page: 'signin', audience: 'signed-out' },
  { href: '/activate.html', text: 'Activate key', page: 'activate', audience: 'anyone' },
  { href: '/keys.html', text: 'My keys', page: 'keys', audience: 'anyone' },
  { href: '/security.html', text: 'Security team', page: 'security', audience: { role: 'security-officer' } },
  { href: '/helpdesk.html', text: 'Helpdesk', page: 'helpdesk', audience: { role: 'helpdesk' } },
  { href: '/admin.html', text: 'Administration', page: 'admin', audience: { role: 'org-admin' } },
];

/** Whether a link is for `me` (null: nobody is signed in). */
function isFor(audience: Audience, me: Me | null): boolean {
  if (audience === 'anyone') return true;
  if (audience === 'signed-out') return me === null;
  return me !== null && me.identity.roles.includes(audience.role);
}

let mePromise: Promise<Me> | undefined;
const sessionListeners: Array<(me: Me | null) => void> = [];

/**
 * GET /api/me, asked once per page load (and again after the session changed) and shared by the
 * header and the page. Rejects with ApiError (401 when not signed in).
 */
export function loadMe(): Promise<Me> {
  mePromise ??= api<Me>('GET', '/api/me');
  return mePromise;
}

/** Calls `listener` whenever who is signed in changes: the person, or null once signed out. */
export function onSessionChange(listener: (me: Me | null) => void): void {
  sessionListeners.push(listener);
}

function tellSession(me: Me | null): void {
  for (const listener of sessionListeners) listener(me);
}

/** The session ended (signed out here, elsewhere, or timed out): every listener redraws. */
export function sessionEnded(): void {
  mePromise = undefined;
  tellSession(null);
}

/** Someone signed in, or their roles changed: asks /api/me again and tells every listener. */
export function sessionChanged(): void {
  mePromise = undefined;
  loadMe().then(tellSession, () => tellSession(null));
}

/** What an API answer says about the session: the one place every page learns it ended. */
function noteSessionAnswer(path: string, status: number, code: string | undefined): void {
  if (status === 401 && code === 'UNAUTHENTICATED') sessionEnded();
  else if (status === 403 && (code === 'ROLE_REQUIRED' || code === 'BINDING_ENDED') && path !== '/api/me') sessionChanged();
}

/**
 * Fills <header id="site-header"> with the site name and main navigation: one logic for every
 * page. Until /api/me answers, only the links for anyone show; then "Sign in" shows only to
 * someone not signed in, and each role's link only to a person with that role. The header
 * follows the session: after a sign-out, or an answer saying the session ended, it redraws.
 */
export function renderHeader(current: PageName): void {
  const header = byId('site-header');
  const title = document.createElement('p');
  title.className = 'site-title';
  title.textContent = 'Security keys · Local IdP';
  const nav = document.createElement('nav');
  nav.setAttribute('aria-label', 'Main');
  const ul = document.createElement('ul');
  const items: { li: HTMLLIElement; audience: Audience }[] = [];
  for (const item of NAV) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = item.href;
    a.textContent = item.text;
    a.dataset['testid'] = `nav-${item.page}`;
    if (item.page === current) a.setAttribute('aria-current', 'page');
    li.append(a);
    li.hidden = item.audience !== 'anyone';
    items.push({ li, audience: item.audience });
    ul.append(li);
  }
  nav.append(ul);
  header.replaceChildren(title, nav);
  const show = (me: Me | null): void => {
    for (const { li, audience } of items) li.hidden = !isFor(audience, me);
    header.dataset['session'] = me ? 'signed-in' : 'signed-out';
  };
  onSessionChange(show);
  // Not signed in, or the server unreachable: the page is used as by someone signed out.
  loadMe().then(show, () => show(null));
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
  return languageOf(document.documentElement.lang);
}

/** Date and time in the page language's one format (i18n/dates.ts), in the reader's time zone. */
export function formatDate(iso: string | null | undefined, fallback = '—'): string {
  return formatDateTime(iso, { language: pageLanguage() }, fallback);
}

/** A server's text with every ISO instant in it written in the page language's date format. */
export function withPageDates(text: string): string {
  return formatDatesIn(text, { language: pageLanguage() });
}

/** A <time> element with the ISO value in datetime and the page language's text. */
export function timeElement(iso: string | null | undefined, fallback = '—'): HTMLElement | Text {
  if (!iso) return document.createTextNode(fallback);
  const t = document.createElement('time');
  t.dateTime = iso;
  t.textContent = formatDate(iso, fallback);
  return t;
}

/** The words for a reason code: the one table pages and mails share (i18n/reasons.ts). */
export function reasonWords(code: string | null | undefined, fallback = '—'): string {
  return reasonLabel(code, pageLanguage(), fallback);
}

/** Makes a heading (or other element) focusable and focuses it, for announcing a new view. */
export function focusElement(el: HTMLElement): void {
  if (!el.hasAttribute('tabindex')) el.tabIndex = -1;
  el.focus();
}
