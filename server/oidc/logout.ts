/**
 * OpenID Connect RP-Initiated Logout 1.0 at the end_session_endpoint (GET and POST, §2).
 *
 * With an id_token_hint we signed for the signed-in person, the session ends at once. Without one
 * (or with another person's), any page could have sent the browser here, so nothing changes: the
 * person is asked on a page of ours (§2: "the OP SHOULD ask the End-User whether to log out"),
 * naming the application when it is known, and the session ends only when they confirm. The
 * confirmation is a POST carrying a token bound to the session (an HMAC of the session's hash and
 * the time it was issued, valid 10 minutes), so another site cannot forge it. Every outcome is
 * audited.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { JsonValue } from '../audit/canonicalJson.js';
import type { SessionView } from '../flows/sessions/resolveSession.js';
import type { Actor } from '../domain/types.js';
import { OidcRequestError } from '../errors.js';
import type { LogoutConfirmation } from '../http/views/logoutPage.js';
import { hashesEqual, keyedHash } from '../security/oneTimeSecrets.js';
import type { OidcClient } from '../domain/oidc.js';
import type { SessionRecord } from '../domain/sessions.js';
import type { Store } from '../ports/store.js';

const PURPOSE = 'oidc-logout-confirmation';
const CONFIRMATION_TTL_S = 600;

export interface LogoutDeps {
  store: Store;
  /** Ends this browser's session (audited). */
  signOut: (sessionId: string) => Promise<void>;
  /** The published keys an id_token_hint must verify with. */
  jwks: () => Promise<{ keys: Record<string, string>[] }>;
  secretKey: Buffer;
  issuer: string;
  now: () => Date;
  audit: (type: string, actor: Actor, subjectId: string | null, data: { [k: string]: JsonValue }) => Promise<void>;
  backchannelLogout: (sessions: SessionRecord[]) => Promise<void>;
}

/**
 * `confirmation`: what the confirmation page (http/views/logoutPage.ts) shows, rendered in the
 * request's language; `formTarget`: where the confirmed form will be redirected, for the page's
 * CSP form-action.
 */
export type LogoutOutcome = { kind: 'redirect'; location: string; sessionEnded: boolean } | { kind: 'confirm'; confirmation: LogoutConfirmation; formTarget?: string };

/** A confirmation token for this session, issued now. */
export function confirmationToken(key: Buffer, sessionHash: string, now: Date): string {
  const iat = Math.floor(now.getTime() / 1000);
  return `${iat}.${keyedHash(key, PURPOSE, `${sessionHash}.${iat}`)}`;
}

/** True when `token` was issued for this session by this gateway in the last 10 minutes. */
export function confirmationHolds(key: Buffer, sessionHash: string, token: string, now: Date): boolean {
  const m = /^(\d{1,12})\.([0-9a-f]{64})$/.exec(token);
  if (!m?.[1] || !m[2]) return false;
  const iat = Number(m[1]);
  const age = now.getTime() / 1000 - iat;
  if (age < -5 || age > CONFIRMATION_TTL_S) return false;
  return hashesEqual(keyedHash(key, PURPOSE, `${sessionHash}.${iat}`), m[2]);
}

function str(q: Record<string, unknown>, k: string): string | undefined {
  const v = q[k];
  return typeof v === 'string' && v.length <= 4096 ? v : undefined;
}

/** An id_token_hint we signed (expiry ignored, as RP-Initiated Logout §2 allows). */
async function verifiedHint(deps: LogoutDeps, hint: string | undefined): Promise<{ sub: string; aud: string } | undefined> {
  if (!hint) return undefined;
  try {
    const { payload } = await jwtVerify(hint, createLocalJWKSet((await deps.jwks()) as JSONWebKeySet), {
      issuer: deps.issuer,
      algorithms: ['ES256'],
      currentDate: new Date(0),
      clockTolerance: Number.MAX_SAFE_INTEGER,
    });
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    return payload.sub && aud ? { sub: payload.sub, aud } : undefined;
  } catch {
    return undefined;
  }
}

function confirmationOf(p: { view: SessionView; client: OidcClient | undefined; token: string; postLogout: string | undefined; state: string | undefined }): LogoutConfirmation {
  return {
    asker: p.client?.name,
    name: p.view.identity.name,
    email: p.view.identity.email,
    token: p.token,
    clientId: p.client?.clientId,
    postLogout: p.postLogout,
    state: p.state,
  };
}

function redirectWith(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/**
 * RP-initiated logout: `params` are the query (GET) or the form (POST); a form with
 * `logout_confirmation` is the person's answer on the confirmation page.
 */
export async function endSession(deps: LogoutDeps, params: Record<string, unknown>, view: SessionView | undefined, sessionId: string | undefined): Promise<LogoutOutcome> {
  const hint = await verifiedHint(deps, str(params, 'id_token_hint'));
  const clientId = hint?.aud ?? str(params, 'client_id');
  const client = clientId ? await deps.store.read((tx) => tx.oidc.client(clientId)) : undefined;
  const requested = str(params, 'post_logout_redirect_uri');
  // §3: only a URI registered for this client is followed.
  const postLogout = requested !== undefined && client?.postLogoutRedirectUris.includes(requested) ? requested : undefined;
  const state = str(params, 'state');
  const confirmation = str(params, 'logout_confirmation');
  const person: Actor = { identityId: view?.identity.id ?? null, role: 'holder' };
  const subject = client?.clientId ?? null;
  const now = deps.now();

  if (view && confirmation === undefined && (!hint || hint.sub !== view.identity.id)) {
    await deps.audit('oidc.logout', person, subject, { sessionEnded: false, reason: hint ? 'id-token-hint-of-another-person' : 'no-valid-id-token-hint', confirmationAsked: true });
    const confirmation = confirmationOf({ view, client, token: confirmationToken(deps.secretKey, view.session.idHash, now), postLogout, state });
    return { kind: 'confirm', confirmation, ...(postLogout ? { formTarget: postLogout } : {}) };
  }
  if (view && confirmation !== undefined && !confirmationHolds(deps.secretKey, view.session.idHash, confirmation, now)) {
    await deps.audit('oidc.logout', person, subject, { sessionEnded: false, reason: 'confirmation-invalid' });
    throw new OidcRequestError('OIDC_LOGOUT_NOT_CONFIRMED', 'The sign-out was not confirmed: the confirmation is not valid for this session. You are still signed in.', 'invalid_request');
  }
  if (view && sessionId) {
    await deps.signOut(sessionId);
    await deps.backchannelLogout([view.session]);
  }
  await deps.audit('oidc.logout', person, subject, { sessionEnded: Boolean(view), ...(confirmation !== undefined ? { confirmed: true } : {}) });
  if (postLogout) return { kind: 'redirect', location: redirectWith(postLogout, { state }), sessionEnded: Boolean(view) };
  return { kind: 'redirect', location: `${deps.issuer}/index.html?signed-out=1`, sessionEnded: Boolean(view) };
}
