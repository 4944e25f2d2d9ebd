// Sent to the sign-in page by a SAML service provider (index.html?saml=…, issue 15): which
// service asks, and where the browser continues after the key touch.
import { api } from './common.js';

const requested = new URLSearchParams(window.location.search).get('saml');

/** The pending SAML request's id, when the page was opened for one. */
export const samlRequest: string | null = requested !== null && /^[A-Za-z0-9_-]{16,64}$/.test(requested) ? requested : null;

/**
 * The name of the service provider that asked: the display name an org-admin gave it (issue 16),
 * else its entityID (the server answers only the browser that brought the request).
 */
export async function samlServiceProvider(requestId: string): Promise<string> {
  const { serviceProvider, displayName } = await api<{ serviceProvider: string; displayName?: string | null }>('GET', `/api/saml/authn-request?id=${encodeURIComponent(requestId)}`);
  return displayName ?? serviceProvider;
}

export function samlContinuation(requestId: string): string {
  return `/saml/sso/continue?request=${encodeURIComponent(requestId)}`;
}
