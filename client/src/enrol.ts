// Enrolment page (enrol.html#token=…): register a security key from a one-time link.
import { browserSupportsWebAuthn, startRegistration } from '@simplewebauthn/browser';
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/browser';
import { ApiError, api, busy, byId, clearMessages, focusElement, setStatus, showError, t, timeElement } from './common.js';
import { renderHeader } from './header.js';
import { beforeLanguageSwitch } from './i18n.js';
import type { CredentialState } from './common.js';

interface EnrolmentOptions {
  options: PublicKeyCredentialCreationOptionsJSON;
  holder: { name: string; email: string };
  expiresAt: string;
}

interface EnrolmentResult {
  credential: { id: string; label: string; state: CredentialState };
  activation: { sentTo: string; expiresAt: string };
}

renderHeader('enrol');

const form = byId<HTMLFormElement>('enrol-form');
const labelInput = byId<HTMLInputElement>('label');
const button = byId<HTMLButtonElement>('register-button');

// Read the one-time token from the fragment, then remove it from the address bar
// and history so it is not bookmarked, shared or shown again.
const token = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('token')?.trim() ?? '';
if (window.location.hash) {
  history.replaceState(history.state, '', window.location.pathname + window.location.search);
}
// Switching the language reloads the page: the token goes back into the fragment for that load,
// which removes it again.
beforeLanguageSwitch((url) => {
  if (token) url.hash = new URLSearchParams({ token }).toString();
});

/** Options from the server, reused until sent to /verify or close to timing out. */
let cached: { options: PublicKeyCredentialCreationOptionsJSON; fetchedAt: number } | null = null;

function fresh(): PublicKeyCredentialCreationOptionsJSON | null {
  if (!cached) return null;
  const timeout = cached.options.timeout ?? 60_000;
  return Date.now() - cached.fetchedAt < timeout - 10_000 ? cached.options : null;
}

async function loadOptions(): Promise<EnrolmentOptions> {
  const result = await api<EnrolmentOptions>('POST', '/api/enrolment/options', { token });
  cached = { options: result.options, fetchedAt: Date.now() };
  byId('holder-name').textContent = result.holder.name;
  byId('holder-email').textContent = result.holder.email;
  byId('enrol-expires').replaceChildren(timeElement(result.expiresAt));
  byId('enrol-intro').hidden = false;
  return result;
}

if (!token) {
  showError(new Error(t('enrol.noToken')));
} else if (!browserSupportsWebAuthn()) {
  showError(new Error(t('common.noWebAuthn')));
} else {
  void (async () => {
    setStatus(t('enrol.checkingLink'));
    try {
      await loadOptions();
      setStatus('');
      form.hidden = false;
    } catch (err) {
      // Link refused (used, expired, unknown): nothing more to do here.
      // Network or server trouble: offer the form so the user can try again.
      const transient = err instanceof ApiError && (err.status === 0 || err.status >= 500);
      form.hidden = !transient;
      showError(err, { context: t('enrol.linkRefused') });
    }
  })();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void register();
});

async function register(): Promise<void> {
  clearMessages(form);
  const label = labelInput.value.trim();
  if (!label) {
    showError(new Error(t('enrol.labelMissing')), { invalid: labelInput });
    return;
  }
  await busy(button, form, async () => {
    let stage: 'options' | 'key' | 'verify' = 'options';
    try {
      let options = fresh();
      if (!options) {
        setStatus(t('enrol.preparing'));
        options = (await loadOptions()).options;
      }
      stage = 'key';
      setStatus(t('enrol.touchKey'));
      const response: RegistrationResponseJSON = await startRegistration({ optionsJSON: options });
      stage = 'verify';
      cached = null; // the challenge is spent once sent to the server
      setStatus(t('enrol.saving'));
      const result = await api<EnrolmentResult>('POST', '/api/enrolment/verify', { token, label, response });
      showDone(result);
    } catch (err) {
      if (stage === 'key' || !(err instanceof ApiError)) {
        showError(err, { ceremony: 'register' });
      } else {
        showError(err, { form });
      }
    }
  });
}

function showDone(result: EnrolmentResult): void {
  form.hidden = true;
  byId('registered-label').textContent = result.credential.label;
  byId('activation-sent-to').textContent = result.activation.sentTo;
  byId('activation-expires').replaceChildren(timeElement(result.activation.expiresAt));
  byId('enrol-done').hidden = false;
  setStatus(t('enrol.done.status'));
  focusElement(byId('enrol-done-heading'));
}
