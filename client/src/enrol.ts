// Enrolment page (enrol.html#token=…): register a security key from a one-time link.
import { browserSupportsWebAuthn, startRegistration } from '@simplewebauthn/browser';
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/browser';
import { ApiError, api, busy, byId, clearMessages, focusElement, renderHeader, setStatus, showError, timeElement } from './common.js';
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
  showError(new Error('This page must be opened from the registration link you received. The link is missing its code: open the link from your message again.'));
} else if (!browserSupportsWebAuthn()) {
  showError(new Error('This browser cannot use security keys (WebAuthn is not available). Use a current browser, over a secure (https) connection.'));
} else {
  void (async () => {
    setStatus('Checking your registration link…');
    try {
      await loadOptions();
      setStatus('');
      form.hidden = false;
    } catch (err) {
      // Link refused (used, expired, unknown): nothing more to do here.
      // Network or server trouble: offer the form so the user can try again.
      const transient = err instanceof ApiError && (err.status === 0 || err.status >= 500);
      form.hidden = !transient;
      showError(err, { context: 'Your registration link could not be used.' });
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
    showError(new Error('Enter a name for the key, for example “Security key”.'), { invalid: labelInput });
    return;
  }
  await busy(button, form, async () => {
    let stage: 'options' | 'key' | 'verify' = 'options';
    try {
      let options = fresh();
      if (!options) {
        setStatus('Preparing registration…');
        options = (await loadOptions()).options;
      }
      stage = 'key';
      setStatus('Insert and touch your security key now. Set or enter its PIN if you are asked.');
      const response: RegistrationResponseJSON = await startRegistration({ optionsJSON: options });
      stage = 'verify';
      cached = null; // the challenge is spent once sent to the server
      setStatus('Saving your security key…');
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
  setStatus('Your security key is registered. It is not active yet.');
  focusElement(byId('enrol-done-heading'));
}
