// The applications page (clients.html, issue 16): an org-admin lists, registers and changes the
// OpenID Connect clients and SAML service providers, with step-up for every change, instead of
// calling the API by hand. Clients from the configuration files are shown read-only.
import { ApiError, byId, setStatus, t } from './common.js';
import { renderHeader } from './header.js';
import { openStaffPage, pageGate, setUpConfirmDialog } from './console.js';
import { setUpOidcClients } from './clients/oidc.js';
import { setUpSamlProviders } from './clients/saml.js';

renderHeader('clients');
setUpConfirmDialog();

/** False once the session ended or the role was withdrawn: late answers are then ignored. */
let allowed = false;

const gate = pageGate(() => hideTools(), 'not-allowed');

/** 401 (session ended) or 403 ROLE_REQUIRED: say so and hide the tools. */
function accessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    allowed = false;
    gate.showSignedOut(t('admin.sessionEnded'), t('common.sessionEnded.heading'));
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
  for (const id of ['oidc-body', 'saml-body', 'oidc-result', 'oidc-edit', 'saml-details']) byId(id).replaceChildren();
}

const oidc = setUpOidcClients(accessLost);
const saml = setUpSamlProviders(accessLost);

void (async () => {
  const me = await openStaffPage('org-admin', t('clients.signedOut.message'), gate, t('common.loading'));
  if (!me) return;
  allowed = true;
  byId('console-content').hidden = false;
  await Promise.all([oidc.load(), saml.load()]);
  setStatus(t('clients.ready'));
})();
