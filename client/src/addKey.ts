// "Add another key" on My keys (issue 16; NSIS 3.2.4 (Low) 1: a new key bound through a valid one).
// The server asks for a fresh touch of the key the person signed in with (step-up) before it
// hands out the registration options; the new key then starts not yet activated, and its
// activation code goes to the person's address by the second channel, as for any key.
import { startRegistration } from '@simplewebauthn/browser';
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/browser';
import { api, busy, byId, clearMessages, setStatus, showError, t } from './common.js';
import { withStepUp } from './stepUp.js';

/** What the page does around an addition: the list, the next steps, a session that ended. */
export interface AddKeyHooks {
  added(result: { label: string; sentTo: string }): Promise<void>;
  /** True when the failure was the end of the session (the page has said so). */
  sessionEnded(err: unknown): boolean;
}

const section = byId('add-key');
const form = byId<HTMLFormElement>('add-key-form');
const input = byId<HTMLInputElement>('add-key-label');
const button = byId<HTMLButtonElement>('add-key-button');

/** Shows the section; with one usable key, the advice to add a spare one. */
export function showAddKey(usableKeys: number): void {
  byId('add-key-spare').hidden = usableKeys !== 1;
  section.hidden = false;
}

export function hideAddKey(): void {
  section.hidden = true;
}

export function setUpAddKey(hooks: AddKeyHooks): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void add(hooks);
  });
}

async function add(hooks: AddKeyHooks): Promise<void> {
  clearMessages(form);
  const label = input.value.trim();
  if (label === '') {
    showError(new Error(t('keys.add.labelMissing')), { invalid: input });
    return;
  }
  await busy(button, form, async () => {
    let result: { credential: { label: string }; activation: { sentTo: string } };
    try {
      const { options } = await withStepUp(() => api<{ options: PublicKeyCredentialCreationOptionsJSON }>('POST', '/api/me/credentials/new/options', {}));
      setStatus(t('keys.add.touchNew'));
      let response: RegistrationResponseJSON;
      try {
        response = await startRegistration({ optionsJSON: options });
      } catch (err) {
        showError(err, { ceremony: 'register', context: t('keys.add.failed') });
        return;
      }
      result = await withStepUp(() => api('POST', '/api/me/credentials/new/verify', { label, response }));
    } catch (err) {
      if (!hooks.sessionEnded(err)) showError(err, { context: t('keys.add.failed') });
      return;
    }
    input.value = '';
    await hooks.added({ label: result.credential.label, sentTo: result.activation.sentTo });
  });
}
