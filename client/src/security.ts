// Security team page (security.html): the gateway's HSM signing keys and their attribute check,
// the published JWKS, key management requests under two-person control, audit verification and
// the readable audit trail. Each concept in its module under security/.
import { api, byId, setStatus, showError, t, tp } from './common.js';
import { renderHeader } from './header.js';
import { openStaffPage } from './console.js';
import { showTwoPersonBanner, type DutiesStatus } from './duties.js';
import { gate, handleAccessLost } from './security/access.js';
import './security/auditCheck.js';
import { startAuditTrail } from './security/auditTrail.js';
import { loadFleet } from './security/fleet.js';
import { renderHsm, renderKeys } from './security/keysView.js';
import { submitButton, updateRequestForm } from './security/requestForm.js';
import { renderRequests } from './security/requestsView.js';
import { loadSamlKeys } from './security/samlKeys.js';
import { state } from './security/state.js';
import type { HsmOverview, JwkSet, KeyRequest, SigningKey } from './security/types.js';

renderHeader('security');

const jwksPre = byId<HTMLPreElement>('jwks');
state.refresh = refresh;

void load();

async function load(): Promise<void> {
  state.me = await openStaffPage('security-officer', t('security.signedOut.message'), gate, t('security.loading'));
  if (!state.me) return;
  state.allowed = true;
  updateRequestForm();
  if (await refresh()) setStatus(summary());
  startAuditTrail();
  // The SAML signing key towards NemLog-in (hidden when the gateway runs no SAML IdP).
  await loadSamlKeys();
  // Says which FIDO metadata is in force, and whether there is any to reload.
  await loadFleet(false).catch((err: unknown) => {
    if (!handleAccessLost(err)) showError(err, { context: t('security.metadataStateFailed') });
  });
}

/** Reloads keys (with the JWKS) and requests. Shows the first failure; false if anything failed. */
async function refresh(): Promise<boolean> {
  const [keysAnswer, requestsAnswer] = await Promise.allSettled([
    api<{ keys: SigningKey[]; jwks: JwkSet; hsm?: HsmOverview }>('GET', '/api/security/keys'),
    api<{ requests: KeyRequest[]; status: DutiesStatus }>('GET', '/api/security/key-requests'),
  ]);
  if (!state.allowed) return false;
  for (const answer of [keysAnswer, requestsAnswer]) {
    if (answer.status === 'rejected' && handleAccessLost(answer.reason)) return false;
  }
  if (keysAnswer.status === 'fulfilled') {
    state.keys = keysAnswer.value.keys;
    renderHsm(keysAnswer.value.hsm);
    renderKeys();
    jwksPre.textContent = JSON.stringify(keysAnswer.value.jwks, null, 2);
  }
  if (requestsAnswer.status === 'fulfilled') {
    state.requests = requestsAnswer.value.requests;
    const status = requestsAnswer.value.status;
    showTwoPersonBanner(byId('duties-banner'), status, 'security');
    state.alone = status.controls.some((c) => c.action === 'hsm-key-rotation' && !c.on);
    submitButton.textContent = state.alone ? t('security.new.submitAlone') : t('security.new.submit');
  }
  // Requests are drawn after the keys: a request names its key by the keys' list.
  renderRequests();
  updateRequestForm();
  byId('officer-content').hidden = false;
  if (keysAnswer.status === 'rejected') {
    showError(keysAnswer.reason, { context: t('security.keysFailed') });
    return false;
  }
  if (requestsAnswer.status === 'rejected') {
    showError(requestsAnswer.reason, { context: t('security.requestsFailed') });
    return false;
  }
  return true;
}

function summary(): string {
  const active = state.keys.filter((k) => k.state === 'active').length;
  const waiting = state.requests.filter((r) => r.state === 'pending').length;
  const keyWords = tp('security.summary.keys', state.keys.length);
  const waitingWords = waiting === 0 ? t('security.summary.waiting.none') : tp('security.summary.waiting', waiting);
  return t('security.summary', { keys: keyWords, active, waiting: waitingWords });
}
