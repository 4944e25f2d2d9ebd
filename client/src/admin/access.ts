// Access lost while the page is open: a session that ended or a role withdrawn hides the tools.
import { ApiError, byId, t } from '../common.js';
import { pageGate } from '../console.js';
import { ad } from './state.js';
import { resultsBody } from './elements.js';

// Declared before the first load: it runs at once.
export const gate = pageGate(() => hideTools(), 'not-allowed');
export const showSignedOut = gate.showSignedOut;
export const showNotAllowed = gate.showNotAllowed;

/** 401 (session ended) or 403 ROLE_REQUIRED: say so and hide the administration tools. */
export function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !ad.allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    ad.allowed = false;
    showSignedOut(t('admin.sessionEnded'), t('common.sessionEnded.heading'));
    return true;
  }
  if (err.status === 403 && err.code === 'ROLE_REQUIRED') {
    ad.allowed = false;
    showNotAllowed(true);
    return true;
  }
  return false;
}

export function hideTools(): void {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  if (dialog.open) dialog.close('');
  byId('console-content').hidden = true;
  resultsBody.replaceChildren();
  byId('create-link').replaceChildren();
  byId('person-link').replaceChildren();
  ad.person = null;
  ad.created = null;
}

