// Activation page: prove possession of the key and enter the activation code.
import { browserSupportsWebAuthn, startAuthentication } from '@simplewebauthn/browser';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { ApiError, api, busy, byId, clearMessages, focusElement, sessionChanged, setStatus, showError, t } from './common.js';
import { renderHeader } from './header.js';
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
  showError(new Error(t('common.noWebAuthn')));
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
    showError(new Error(t('activate.emailMissing')), { invalid: email });
    return;
  }
  if (!activationCode) {
    showError(new Error(t('activate.codeMissing')), { invalid: code });
    return;
  }
  if (!/^\d{8}$/.test(activationCode.replace(/-/g, ''))) {
    showError(new Error(t('activate.codeShape')), { invalid: code });
    return;
  }
  await busy(button, form, async () => {
    let stage: 'options' | 'key' | 'verify' = 'options';
    try {
      setStatus(t('activate.preparing'));
      const { options } = await api<{ options: PublicKeyCredentialRequestOptionsJSON }>('POST', '/api/activation/options', {
        email: address,
      });
      stage = 'key';
      setStatus(t('signin.touchKey'));
      const response: AuthenticationResponseJSON = await startAuthentication({ optionsJSON: options });
      stage = 'verify';
      setStatus(t('activate.checking'));
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
  setStatus(t('activate.done.status'));
  focusElement(byId('activate-done-heading'));
}
