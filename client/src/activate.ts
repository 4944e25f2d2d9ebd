// Activation page: prove possession of the key and enter the activation code.
import { browserSupportsWebAuthn, startAuthentication } from '@simplewebauthn/browser';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { ApiError, api, busy, byId, clearMessages, focusElement, renderHeader, sessionChanged, setStatus, showError } from './common.js';
import type { CredentialState, Identity } from './common.js';

interface ActivationResult {
  credential: { id: string; label: string; state: CredentialState };
  identity: Identity;
}

renderHeader('activate');

const form = byId<HTMLFormElement>('activate-form');
const email = byId<HTMLInputElement>('email');
const code = byId<HTMLInputElement>('code');
const button = byId<HTMLButtonElement>('activate-button');

if (!browserSupportsWebAuthn()) {
  showError(new Error('This browser cannot use security keys (WebAuthn is not available). Use a current browser, over a secure (https) connection.'));
  button.disabled = true;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void activate();
});

async function activate(): Promise<void> {
  clearMessages(form);
  const address = email.value.trim();
  const activationCode = code.value.replace(/\s+/g, '');
  if (!address || !email.checkValidity()) {
    showError(new Error('Enter the email address you registered the key with, for example name@example.dk.'), { invalid: email });
    return;
  }
  if (!activationCode) {
    showError(new Error('Enter the activation code from the message we sent you.'), { invalid: code });
    return;
  }
  if (!/^\d{8}$/.test(activationCode.replace(/-/g, ''))) {
    showError(new Error('The activation code has 8 digits, for example 1234 5678. Copy it from the message we sent you.'), { invalid: code });
    return;
  }
  await busy(button, form, async () => {
    let stage: 'options' | 'key' | 'verify' = 'options';
    try {
      setStatus('Preparing activation…');
      const { options } = await api<{ options: PublicKeyCredentialRequestOptionsJSON }>('POST', '/api/activation/options', {
        email: address,
      });
      stage = 'key';
      setStatus('Touch your security key now. Enter its PIN if you are asked.');
      const response: AuthenticationResponseJSON = await startAuthentication({ optionsJSON: options });
      stage = 'verify';
      setStatus('Checking your key and activation code…');
      const result = await api<ActivationResult>('POST', '/api/activation/verify', { code: activationCode, response });
      showDone(result);
    } catch (err) {
      if (stage === 'key' || !(err instanceof ApiError)) {
        showError(err, { ceremony: 'activate' });
      } else if (err.code === 'ACTIVATION_CODE_INVALID') {
        showError(err, { form, invalid: code });
      } else {
        showError(err, { form });
      }
    }
  });
}

function showDone(result: ActivationResult): void {
  // Activation signs the holder in: the header now shows what a signed-in person sees.
  sessionChanged();
  form.hidden = true;
  byId('activated-label').textContent = result.credential.label;
  byId('activated-name').textContent = result.identity.name;
  byId('activate-done').hidden = false;
  setStatus('Your security key is active and you are signed in.');
  focusElement(byId('activate-done-heading'));
}
