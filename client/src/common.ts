// Shared client code: API fetch with RFC 9457 problem+json errors, status/error
// regions, page header/nav, WebAuthn error wording and small formatting helpers (every word comes
// from the page language's catalogue in i18n/, dates and reason words too, shared with the mails).
import { WebAuthnError } from '@simplewebauthn/browser';
import { CATALOGUES, formatDateTime, formatDatesIn, reasonLabel, type Language, type MessageKey } from '../../i18n/index.js';
// First: it picks the page language and fills the page's words before anything else draws.
import { addressIn, fromServer, languageChosenByLink, otherLanguages, pageLanguage as i18nLanguage, switchLanguage, t, tKey, tn, wrapIn } from './i18n.js';
import { noKeyAnswered, problemWords, serverDetailAdds, type Ceremony } from './messages.js';
// Every page: table rows become labelled cards on a phone.
import './tables.js';

// ---------------------------------------------------------------- API types

export type CredentialState = 'issued' | 'active' | 'suspended' | 'revoked' | 'expired';

export interface Identity {
  id: string;
  name: string;
  email: string;
  roles: string[];
  /** The language of the person's mails (issue 16); null: the organisation's. */
  language?: Language | null;
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
  /** The schema check that failed (zod's issue code), the same in every language. */
  code?: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** In an answer in another language than English: the server's own words (which may carry facts, e.g. the attempts left). */
  englishDetail?: string;
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
  /** The page's own words for the status, for when the server's (English) detail is not shown. */
  readonly fallback: string;
  /** The answer's language (Content-Language): its field messages are in it (issue 16). */
  readonly language: string | undefined;

  constructor(status: number, problem: Problem, fallback: string, language?: string) {
    // The pages put the catalogue's words for the code first and, where it adds facts, the server's
    // own English words after them, marked as English (serverDetail): so they keep those.
    const detail = problem.englishDetail ?? problem.detail;
    super(detail || problem.title || fallback);
    this.fallback = fallback;
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.language = language;
  }
}

const isJson = (res: Response): boolean => /[/+]json\b/i.test(res.headers.get('content-type') ?? '');

function fallbackMessage(status: number): string {
  if (status === 401) return t('common.api.status401');
  if (status === 403) return t('common.api.status403');
  if (status === 404) return t('common.api.status404');
  if (status === 429) return t('common.api.status429');
  if (status >= 500) return t('common.api.status5xx', { status });
  return t('common.api.statusOther', { status });
}

/**
 * Same-origin JSON call to the gateway API. Resolves with the parsed body (or
 * undefined for 204); rejects with ApiError carrying the problem details.
 */
/** POST /api/signout answers 204 (nothing), or where the browser goes next (SAML single logout). */
export type SignOutAnswer = { next?: string } | undefined;

/** The gateway's own path to follow after a sign-out: the SAML front-channel logout, or the signed-out page. */
export function signOutDestination(answer: SignOutAnswer): string {
  const next = answer?.next;
  return typeof next === 'string' && next.startsWith('/saml/logout?') ? next : '/?signed-out=1';
}

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
    throw new ApiError(0, {}, t('common.api.unreachable'));
  }
  if (res.ok) {
    if (res.status === 204) return undefined as T;
    if (!isJson(res)) {
      throw new ApiError(res.status, {}, t('common.api.unexpected'));
    }
    try {
      return (await res.json()) as T;
    } catch {
      throw new ApiError(res.status, {}, t('common.api.unreadable'));
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
  throw new ApiError(res.status, problem, fallbackMessage(res.status), res.headers.get('content-language') ?? undefined);
}

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

// -------------------------------------------------------------- header / nav

export type PageName = 'signin' | 'enrol' | 'activate' | 'keys' | 'security' | 'helpdesk' | 'admin' | 'clients' | 'inbox';

/** GET /api/me: who is signed in, with which key. */
/** Whether a person is signed in on this page (the header knows from /api/me). */
let signedIn = false;

export interface Me {
  identity: Identity;
  session: { credentialId: string };
}

/** Who sees a header link: everyone, only someone not signed in, or a signed-in person with a role. */
type Audience = 'anyone' | 'signed-out' | { role: string } | { anyRole: readonly string[] };

/** The roles that may ask for or approve something a second person must approve. */
export const STAFF_ROLES = ['org-admin', 'helpdesk', 'security-officer'] as const;

interface NavItem {
  href: string;
  text: MessageKey;
  page: PageName;
  /** Role links are only hints: the server checks the role again on every call. */
  audience: Audience;
}

const NAV: ReadonlyArray<NavItem> = [
  { href: '/', text: 'common.nav.signin', page: 'signin', audience: 'signed-out' },
  { href: '/activate.html', text: 'common.nav.activate', page: 'activate', audience: 'anyone' },
  { href: '/keys.html', text: 'common.nav.keys', page: 'keys', audience: 'anyone' },
  { href: '/security.html', text: 'common.nav.security', page: 'security', audience: { role: 'security-officer' } },
  { href: '/helpdesk.html', text: 'common.nav.helpdesk', page: 'helpdesk', audience: { role: 'helpdesk' } },
  { href: '/admin.html', text: 'common.nav.admin', page: 'admin', audience: { role: 'org-admin' } },
  { href: '/clients.html', text: 'common.nav.clients', page: 'clients', audience: { role: 'org-admin' } },
  { href: '/approvals.html', text: 'common.nav.inbox', page: 'inbox', audience: { anyRole: STAFF_ROLES } },
];

/** Whether a link is for `me` (null: nobody is signed in). */
function isFor(audience: Audience, me: Me | null): boolean {
  if (audience === 'anyone') return true;
  if (audience === 'signed-out') return me === null;
  if (me === null) return false;
  return 'role' in audience ? me.identity.roles.includes(audience.role) : audience.anyRole.some((r) => me.identity.roles.includes(r));
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
 * Fills <header id="site-header">, the same on every page: the site name, what this person may use
 * (the main navigation), who is signed in with a "Sign out" button, and the language switch. One
 * logic for every page. Until /api/me answers, only the links for anyone show; then "Sign in"
 * shows only to someone not signed in, and each role's link only to a person with that role. The
 * header follows the session: after a sign-out, or an answer saying the session ended, it redraws.
 */
export function renderHeader(current: PageName): void {
  const header = byId('site-header');
  const title = el('p', 'site-title', wrapIn('a', (a) => (a.href = '/'))([document.createTextNode(t('common.siteTitle'))]));
  const nav = el('nav');
  nav.setAttribute('aria-label', t('common.nav.label'));
  const ul = el('ul');
  const items: { li: HTMLLIElement; audience: Audience }[] = [];
  for (const item of NAV) {
    const a = el('a', undefined, tKey(item.text));
    a.href = item.href;
    a.dataset['testid'] = `nav-${item.page}`;
    if (item.page === current) a.setAttribute('aria-current', 'page');
    const li = el('li', undefined, a);
    li.hidden = item.audience !== 'anyone';
    items.push({ li, audience: item.audience });
    ul.append(li);
  }
  nav.append(ul);

  // Who is signed in, and "Sign out": the sign-in page then says so.
  const user = el('p', 'site-user');
  user.dataset['testid'] = 'header-user';
  user.hidden = true;
  const signOut = el('button', 'header-button', t('common.header.signOut'));
  signOut.type = 'button';
  signOut.dataset['testid'] = 'header-signout';
  signOut.hidden = true;
  signOut.addEventListener('click', () => {
    void busy(signOut, null, async () => {
      let answer: SignOutAnswer;
      try {
        answer = await api<SignOutAnswer>('POST', '/api/signout', {});
      } catch (err) {
        showError(err, { context: t('common.header.signOutFailed') });
        return;
      }
      sessionEnded();
      // With SAML service providers in the session, the browser tells them (front channel) and
      // ends on the signed-out page; otherwise straight there.
      window.location.assign(signOutDestination(answer));
    });
  });
  const tools = el('div', 'site-tools', user, signOut, ...otherLanguages().map(languageLink));
  header.replaceChildren(title, nav, tools);

  const show = (me: Me | null): void => {
    signedIn = Boolean(me);
    // Issue 16: a switch link followed while signed in (from a server page) is the person's choice too.
    if (me && languageChosenByLink() && me.identity.language !== i18nLanguage()) void storeLanguage(i18nLanguage());
    for (const { li, audience } of items) li.hidden = !isFor(audience, me);
    header.dataset['session'] = me ? 'signed-in' : 'signed-out';
    user.replaceChildren(...(me ? tn('common.header.signedInAs', { name: me.identity.name, strong: wrapIn('strong') }) : []));
    user.hidden = !me;
    signOut.hidden = !me;
  };
  onSessionChange(show);
  // Not signed in, or the server unreachable: the page is used as by someone signed out.
  loadMe().then(show, () => show(null));
}

/**
 * Issue 16: the language a signed-in person switches to is kept on the server as theirs: their
 * mails follow it. A failure leaves the page's switch working; My keys shows the stored language.
 */
export async function storeLanguage(language: Language): Promise<boolean> {
  try {
    await api<{ language: Language }>('POST', '/api/me/language', { language });
    return true;
  } catch {
    return false;
  }
}

/** The switch to another language: its name in itself, remembered for every later page (and, signed in, as the person's). */
function languageLink(to: Language): HTMLAnchorElement {
  const a = el('a', 'language-switch', CATALOGUES[to]['common.language.name']);
  a.href = addressIn(to);
  a.lang = to;
  a.hreflang = to;
  a.dataset['testid'] = 'language-switch';
  a.addEventListener('click', (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    if (signedIn) void storeLanguage(to).then(() => switchLanguage(to));
    else switchLanguage(to);
  });
  return a;
}

/** A small element maker for the header. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  e.append(...children);
  return e;
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
