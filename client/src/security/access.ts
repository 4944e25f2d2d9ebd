/** Losing access while the page is open: the session ended or the role was withdrawn. */
import { ApiError, byId, t } from '../common.js';
import { pageGate } from '../console.js';
import { state } from './state.js';

// Declared before the first load: it runs at once.
export const gate = pageGate(() => hideOfficerTools(), 'not-officer');

/** 401 (session ended) or 403 ROLE_REQUIRED after loading: say so and hide the officer tools. */
export function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !state.allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    state.allowed = false;
    gate.showSignedOut(t('security.sessionEnded'), t('common.sessionEnded.heading'));
    return true;
  }
  if (err.status === 403 && err.code === 'ROLE_REQUIRED') {
    state.allowed = false;
    gate.showNotAllowed(true);
    return true;
  }
  return false;
}

export function hideOfficerTools(): void {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  if (dialog.open) dialog.close('');
  byId('officer-content').hidden = true;
  byId('keys-body').replaceChildren();
  byId('requests-body').replaceChildren();
  byId('jwks').textContent = '';
}

