// Access lost while the page is open: a session that ended or a role withdrawn hides the tools.
import { ApiError, byId, t } from '../common.js';
import { pageGate } from '../console.js';
import { hd } from './state.js';
import { resultsBody, keysBody, auditBody, approvalsBody, actionDialog } from './elements.js';

// Declared before the first load: it runs at once.
export const gate = pageGate(() => hideTools(), 'not-allowed');
const showSignedOut = gate.showSignedOut;
const showNotAllowed = gate.showNotAllowed;

/** 401 (session ended) or 403 ROLE_REQUIRED: say so and hide the helpdesk tools. */
export function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !hd.allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    hd.allowed = false;
    showSignedOut(t('helpdesk.sessionEnded'), t('common.sessionEnded.heading'));
    return true;
  }
  if (err.status === 403 && err.code === 'ROLE_REQUIRED') {
    hd.allowed = false;
    showNotAllowed(true);
    return true;
  }
  return false;
}

function hideTools(): void {
  for (const d of [actionDialog, byId<HTMLDialogElement>('confirm-dialog')]) if (d.open) d.close('');
  byId('console-content').hidden = true;
  resultsBody.replaceChildren();
  keysBody.replaceChildren();
  approvalsBody.replaceChildren();
  auditBody.replaceChildren();
  hd.person = null;
}
