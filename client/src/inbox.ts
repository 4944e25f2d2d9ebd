// The approvals inbox (approvals.html, issue 16): everything waiting for a second person in one
// list, for every staff role: what you asked for (withdraw it) and what you may approve (approve
// or reject it, after seeing exactly what will happen, with a fresh touch of your key). Whether
// you may approve is the server's answer (the duties table); the page only shows it.
import { ApiError, byId, clearMessages, setStatus, STAFF_ROLES, t, tp } from './common.js';
import { renderHeader } from './header.js';
import type { Identity } from './common.js';
import { openStaffPage, pageGate, setUpConfirmDialog } from './console.js';
import { approvalsList } from './duties.js';

renderHeader('inbox');
setUpConfirmDialog();

const KINDS = ['contact-change', 'role-grant', 'replacement', 'bulk', 'hsm-key-rotation', 'hsm-key-emergency-rotation', 'hsm-key-destroy'] as const;

let me: Identity | null = null;
/** False once the session ended or the roles were withdrawn: late answers are then ignored. */
let allowed = false;

const gate = pageGate(() => hideTools(), 'not-allowed');

const approvals = approvalsList({
  body: byId<HTMLTableSectionElement>('approvals-body'),
  empty: byId('no-approvals'),
  result: byId('approval-result'),
  kinds: KINDS,
  kindWords: Object.fromEntries(KINDS.map((k) => [k, t(`inbox.kind.${k}`)])),
  meId: () => me?.id,
  accessLost: (err) => handleAccessLost(err),
  afterDecision: async () => undefined,
});

void load();

async function load(): Promise<void> {
  me = await openStaffPage(STAFF_ROLES, t('inbox.signedOut.message'), gate, t('common.loading'));
  if (!me) return;
  allowed = true;
  byId('console-content').hidden = false;
  if (await approvals.load()) showWaiting();
}

function showWaiting(): void {
  const waiting = approvals.pendingForMe();
  setStatus(waiting === 0 ? t('inbox.ready') : tp('inbox.ready.waiting', waiting));
}

byId('approvals-refresh').addEventListener('click', () => {
  clearMessages();
  void approvals.load().then((ok) => ok && showWaiting());
});

function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    allowed = false;
    gate.showSignedOut(t('inbox.signedOut.message'), t('common.sessionEnded.heading'));
    return true;
  }
  if (err.status === 403 && err.code === 'ROLE_REQUIRED') {
    allowed = false;
    gate.showNotAllowed(true);
    return true;
  }
  return false;
}

function hideTools(): void {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  if (dialog.open) dialog.close('');
  byId('console-content').hidden = true;
  byId('approvals-body').replaceChildren();
}
