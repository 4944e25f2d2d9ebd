// Sign-in page (index.html): sign in with a security key, or show who is signed in.
import { browserSupportsWebAuthn, startAuthentication } from '@simplewebauthn/browser';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { ApiError, api, busy, byId, clearMessages, setStatus, showError, t } from './common.js';
import { renderHeader } from './header.js';
import type { Identity } from './common.js';
import { samlContinuation, samlRequest, samlServiceProvider } from './samlRequest.js';

renderHeader('signin');

const form = byId<HTMLFormElement>('signin-form');
const email = byId<HTMLInputElement>('email');
const button = byId<HTMLButtonElement>('signin-button');

if (!browserSupportsWebAuthn()) {
  showError(new Error(t('common.noWebAuthn')));
  button.disabled = true;
}

// Sent here by a service (OpenID Connect): sign in, then continue to the service.
const oidcRequest = new URLSearchParams(window.location.search).get('oidc');
const validOidcRequest = oidcRequest !== null && /^[A-Za-z0-9_-]{16,64}$/.test(oidcRequest) ? oidcRequest : null;
if (validOidcRequest) {
  setStatus(t('signin.oidc.asks'));
  void nameTheApplication(validOidcRequest);
} else if (samlRequest) {
  setStatus(t('signin.oidc.asks'));
  void nameTheApplication(samlRequest, samlServiceProvider);
}

/** Names the application that asked (the server answers only the browser that started the request). */
async function nameTheApplication(requestId: string, describe: (id: string) => Promise<string> = oidcClientName): Promise<void> {
  try {
    const clientName = await describe(requestId);
    setStatus(t('signin.oidc.asksNamed', { application: clientName }));
  } catch (err) {
    // Unknown, used, expired, or started in another browser: signing in here cannot continue it.
    form.hidden = true;
    showError(err);
    const next = document.createElement('p');
    next.id = 'oidc-next-step';
    next.textContent = t('signin.oidc.nextStep');
    byId('error').after(next);
  }
}
async function oidcClientName(requestId: string): Promise<string> {
  return (await api<{ clientName: string }>('GET', `/api/oidc/authorization-request?id=${encodeURIComponent(requestId)}`)).clientName;
}
if (new URLSearchParams(window.location.search).has('signed-out')) {
  setStatus(t('signin.signedOut'));
}

// Already signed in? Then say so instead of offering the form (unless a service asks for a
// fresh sign-in: then the form stays).
void (async () => {
  if (validOidcRequest || samlRequest) return;
  try {
    const me = await api<{ identity: Identity }>('GET', '/api/me');
    byId('signed-in-name').textContent = me.identity.name;
    byId('signed-in-email').textContent = me.identity.email;
    byId('signed-in').hidden = false;
    form.hidden = true;
  } catch {
    // 401 (not signed in) or any other failure: keep the sign-in form.
  }
})();

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn();
});

async function signIn(): Promise<void> {
  clearMessages(form);
  const address = email.value.trim();
  if (address && !email.checkValidity()) {
    showError(new Error(t('signin.invalidEmail')), { invalid: email });
    return;
  }
  await busy(button, form, async () => {
    let stage: 'options' | 'key' | 'verify' = 'options';
    try {
      setStatus(t('signin.preparing'));
      const { options } = await api<{ options: PublicKeyCredentialRequestOptionsJSON }>(
        'POST',
        '/api/signin/options',
        address ? { email: address } : {},
      );
      stage = 'key';
      setStatus(t('signin.touchKey'));
      const response: AuthenticationResponseJSON = await startAuthentication({ optionsJSON: options });
      stage = 'verify';
      setStatus(t('signin.checking'));
      await api<{ identity: Identity }>('POST', '/api/signin/verify', { response });
      if (validOidcRequest) {
        setStatus(t('signin.returning'));
        window.location.assign(`/oidc/authorize/continue?request=${encodeURIComponent(validOidcRequest)}`);
        return;
      }
      if (samlRequest) {
        setStatus(t('signin.returning'));
        window.location.assign(samlContinuation(samlRequest));
        return;
      }
      setStatus(t('signin.opening'));
      window.location.assign('/keys.html');
    } catch (err) {
      if (stage === 'key' || !(err instanceof ApiError)) {
        showError(err, { ceremony: address ? 'signin-email' : 'signin' });
      } else {
        showError(err, { form });
      }
    }
  });
}
