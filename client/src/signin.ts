// Sign-in page (index.html): sign in with a security key, or show who is signed in.
import { browserSupportsWebAuthn, startAuthentication } from '@simplewebauthn/browser';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { ApiError, api, busy, byId, clearMessages, renderHeader, setStatus, showError } from './common.js';
import type { Identity } from './common.js';

renderHeader('signin');

const form = byId<HTMLFormElement>('signin-form');
const email = byId<HTMLInputElement>('email');
const button = byId<HTMLButtonElement>('signin-button');

if (!browserSupportsWebAuthn()) {
  showError(new Error('This browser cannot use security keys (WebAuthn is not available). Use a current browser, over a secure (https) connection.'));
  button.disabled = true;
}

// Sent here by a service (OpenID Connect): sign in, then continue to the service.
const oidcRequest = new URLSearchParams(window.location.search).get('oidc');
const validOidcRequest = oidcRequest !== null && /^[A-Za-z0-9_-]{16,64}$/.test(oidcRequest) ? oidcRequest : null;
if (validOidcRequest) {
  setStatus('An application asks you to sign in with your security key.');
  void nameTheApplication(validOidcRequest);
}

/** Names the application that asked (the server answers only the browser that started the request). */
async function nameTheApplication(requestId: string): Promise<void> {
  try {
    const { clientName } = await api<{ clientName: string }>('GET', `/api/oidc/authorization-request?id=${encodeURIComponent(requestId)}`);
    setStatus(`${clientName} asks you to sign in with your security key.`);
  } catch (err) {
    // Unknown, used, expired, or started in another browser: signing in here cannot continue it.
    form.hidden = true;
    showError(err);
    const next = document.createElement('p');
    next.id = 'oidc-next-step';
    next.textContent = 'Go back to the application in this browser and start the sign-in again.';
    byId('error').after(next);
  }
}
if (new URLSearchParams(window.location.search).has('signed-out')) {
  setStatus('You are signed out.');
}

// Already signed in? Then say so instead of offering the form (unless a service asks for a
// fresh sign-in: then the form stays).
void (async () => {
  if (validOidcRequest) return;
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
    showError(new Error('Enter a valid email address, for example name@example.dk, or leave the field empty.'), { invalid: email });
    return;
  }
  await busy(button, form, async () => {
    let stage: 'options' | 'key' | 'verify' = 'options';
    try {
      setStatus('Preparing sign-in…');
      const { options } = await api<{ options: PublicKeyCredentialRequestOptionsJSON }>(
        'POST',
        '/api/signin/options',
        address ? { email: address } : {},
      );
      stage = 'key';
      setStatus('Touch your security key now. Enter its PIN if you are asked.');
      const response: AuthenticationResponseJSON = await startAuthentication({ optionsJSON: options });
      stage = 'verify';
      setStatus('Checking your security key…');
      await api<{ identity: Identity }>('POST', '/api/signin/verify', { response });
      if (validOidcRequest) {
        setStatus('You are signed in. Returning to the service…');
        window.location.assign(`/oidc/authorize/continue?request=${encodeURIComponent(validOidcRequest)}`);
        return;
      }
      setStatus('You are signed in. Opening your keys…');
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
