// Who is signed in on this page: GET /api/me asked once and shared, listeners told when the
// session changes, and the one place an API refusal ends or refreshes it (registered with api.ts).
import type { Language } from '../../i18n/index.js';
import { api, onApiRefusal, type Identity } from './api.js';

/** GET /api/me: who is signed in, with which key. */
export interface Me {
  identity: Identity;
  session: { credentialId: string };
}

/** The roles that may ask for or approve something a second person must approve. */
export const STAFF_ROLES = ['org-admin', 'helpdesk', 'security-officer'] as const;

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

onApiRefusal(noteSessionAnswer);

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
