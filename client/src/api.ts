// The gateway API from the pages: same-origin JSON calls whose refusals are RFC 9457
// problem+json (ApiError), and the answer types the pages share. Knows nothing of pages: who
// wants to hear about refused calls (the session, session.ts) registers with onApiRefusal.
import type { Language } from '../../i18n/index.js';
import { t } from './i18n.js';


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
  for (const listener of refusalListeners) listener(path, res.status, problem.code);
  throw new ApiError(res.status, problem, fallbackMessage(res.status), res.headers.get('content-language') ?? undefined);
}

type RefusalListener = (path: string, status: number, code: string | undefined) => void;
const refusalListeners: RefusalListener[] = [];

/** Calls `listener` with every refused API call (its path, status and problem code). */
export function onApiRefusal(listener: RefusalListener): void {
  refusalListeners.push(listener);
}
