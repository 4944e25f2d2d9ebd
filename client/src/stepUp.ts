// Step-up for console actions: when the server answers 401 STEP_UP_REQUIRED ("touch your key
// again"), a short prompt asks the signed-in person to use their security key once more (a fresh
// sign-in as the same person), and the original request is sent again, once.
import { startAuthentication } from '@simplewebauthn/browser';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { ApiError, api, errorText, loadMe, pageLanguage, sessionChanged, t } from './common.js';
import type { Identity } from './common.js';

/** The person closed the prompt, or the key could not be confirmed: nothing was changed. */
export class StepUpError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StepUpError';
  }
}

export const isStepUpRequired = (err: unknown): boolean => err instanceof ApiError && err.status === 401 && err.code === 'STEP_UP_REQUIRED';

/**
 * Runs `work`; if the server asks for a step-up, confirms the person with their security key and
 * runs `work` once more. Any other failure (including a second STEP_UP_REQUIRED) is passed on.
 * Rejects with StepUpError when the person cancels or the key is not confirmed.
 */
export async function withStepUp<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!isStepUpRequired(err)) throw err;
    await confirmWithKey(err instanceof ApiError ? err.detail : undefined);
    return work();
  }
}

/** `api()` with step-up: use for every console request that changes something. */
export function stepUpApi<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return withStepUp(() => api<T>(method, path, body));
}

// ------------------------------------------------------------------- prompt

interface Prompt {
  dialog: HTMLDialogElement;
  message: HTMLParagraphElement;
  problem: HTMLParagraphElement;
  retry: HTMLButtonElement;
  cancel: HTMLButtonElement;
}

let prompt: Prompt | undefined;

/** The prompt dialog, made once per page and appended to <main> (or <body>). */
function getPrompt(): Prompt {
  if (prompt) return prompt;
  const dialog = document.createElement('dialog');
  dialog.id = 'step-up-dialog';
  dialog.dataset['testid'] = 'step-up-dialog';
  dialog.setAttribute('aria-labelledby', 'step-up-heading');
  dialog.setAttribute('aria-describedby', 'step-up-message');
  const heading = document.createElement('h2');
  heading.id = 'step-up-heading';
  heading.textContent = t('stepUp.heading');
  const message = document.createElement('p');
  message.id = 'step-up-message';
  message.dataset['testid'] = 'step-up-message';
  message.setAttribute('role', 'status');
  message.setAttribute('aria-live', 'polite');
  const problem = document.createElement('p');
  problem.id = 'step-up-problem';
  problem.dataset['testid'] = 'step-up-problem';
  problem.className = 'warning';
  problem.setAttribute('role', 'alert');
  const actions = document.createElement('div');
  actions.className = 'actions';
  const retry = document.createElement('button');
  retry.type = 'button';
  retry.id = 'step-up-retry';
  retry.dataset['testid'] = 'step-up-retry';
  retry.textContent = t('stepUp.useKey');
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.id = 'step-up-cancel';
  cancel.dataset['testid'] = 'step-up-cancel';
  cancel.className = 'secondary-button';
  cancel.textContent = t('common.cancel');
  actions.append(retry, cancel);
  dialog.append(heading, message, problem, actions);
  (document.querySelector('main') ?? document.body).append(dialog);
  prompt = { dialog, message, problem, retry, cancel };
  return prompt;
}

/**
 * Shows the prompt and starts the key ceremony at once. If it fails, the prompt says why and
 * offers "Use my security key" (again, with a fresh user gesture) or Cancel.
 */
function confirmWithKey(serverDetail: string | undefined): Promise<void> {
  const p = getPrompt();
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  // The server says how recent the key touch must be, in English: other languages say it generally.
  const intro = (pageLanguage() === 'en' ? serverDetail : undefined) || t('stepUp.intro');
  p.message.textContent = t('stepUp.touch', { intro });
  p.problem.textContent = '';
  p.problem.hidden = true;
  p.retry.hidden = true;
  p.retry.disabled = false;
  p.cancel.disabled = false;

  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let running = false;
    const finish = (err?: StepUpError): void => {
      if (settled) return;
      settled = true;
      p.retry.removeEventListener('click', onRetry);
      p.cancel.removeEventListener('click', onCancel);
      p.dialog.removeEventListener('cancel', onEscape);
      if (p.dialog.open) p.dialog.close();
      if (opener?.isConnected) opener.focus();
      if (err) reject(err);
      else resolve();
    };
    let first = true;
    const attempt = async (): Promise<void> => {
      if (running || settled) return;
      running = true;
      p.retry.hidden = true;
      p.problem.hidden = true;
      // The first attempt keeps the server's reason on screen; a retry just asks for the touch.
      if (!first) p.message.textContent = t('stepUp.touchAgain');
      first = false;
      try {
        await signInAgain();
        if (!settled) p.message.textContent = t('stepUp.confirmed');
        finish();
      } catch (err) {
        if (settled) return;
        const words = err instanceof StepUpError ? err.message : errorText(err, err instanceof ApiError ? undefined : 'step-up');
        p.message.textContent = t('stepUp.notConfirmed');
        p.problem.textContent = words;
        p.problem.hidden = false;
        p.retry.textContent = t('stepUp.tryAgain');
        p.retry.hidden = false;
        p.retry.focus();
      } finally {
        running = false;
      }
    };
    const onRetry = (): void => void attempt();
    const onCancel = (): void => finish(new StepUpError(t('stepUp.cancelled')));
    const onEscape = (e: Event): void => {
      e.preventDefault();
      onCancel();
    };
    p.retry.addEventListener('click', onRetry);
    p.cancel.addEventListener('click', onCancel);
    p.dialog.addEventListener('cancel', onEscape);
    p.dialog.showModal();
    p.cancel.focus();
    void attempt();
  });
}

/** A fresh security-key sign-in as the person already signed in. */
async function signInAgain(): Promise<void> {
  let me: Identity;
  try {
    ({ identity: me } = await loadMe());
  } catch (err) {
    throw new StepUpError(t('stepUp.accountFailed', { reason: errorText(err) }), { cause: err });
  }
  const { options } = await api<{ options: PublicKeyCredentialRequestOptionsJSON }>('POST', '/api/signin/options', { email: me.email });
  const response: AuthenticationResponseJSON = await startAuthentication({ optionsJSON: options });
  let answer: { identity?: Identity } | undefined;
  try {
    answer = await api<{ identity?: Identity }>('POST', '/api/signin/verify', { response });
  } catch (err) {
    // Wrap: a 401 from the sign-in itself must not look like "your session has ended".
    throw new StepUpError(errorText(err), { cause: err });
  }
  if (answer?.identity && answer.identity.id !== me.id) {
    // Another person's key signed in: the header follows the new session.
    sessionChanged();
    throw new StepUpError(t('stepUp.otherPerson', { name: answer.identity.name }));
  }
}
