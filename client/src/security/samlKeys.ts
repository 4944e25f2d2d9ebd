/**
 * The SAML signing key towards NemLog-in (OIOSAML 3, issue 15) on the security page: the keys with
 * their certificates, a new pending key, its PKCS#10 request for the CA, the import of the
 * CA-issued certificate, and the switch, the destruction of a retired key and the discarding of a
 * pending one (never active), which a second security officer approves
 * in the shared approvals list (NSIS 6 (Substantial) 11; duties.ts, as the other staff pages).
 * Hidden when the gateway does not run the SAML identity provider.
 */
import { ApiError, api, busy, byId, clearMessages, focusElement, setStatus, showError, t, timeElement, tn } from '../common.js';
import { approvalsList } from '../duties.js';
import { stepUpApi } from '../stepUp.js';
import { handleAccessLost } from './access.js';
import { confirmAction } from './decisions.js';
import { el, hidden, kidElement, shortKid } from './dom.js';
import { state } from './state.js';

type SamlKeyState = 'pending' | 'active' | 'retired' | 'destroyed';

interface SamlKey {
  kid: string;
  state: SamlKeyState;
  algorithm: string;
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  destroyedAt: string | null;
  certificate: { subject: string; issuer: string; validFrom: string; validTo: string; sha256: string; selfSigned: boolean };
}

const section = byId('saml-keys-section');
const body = byId<HTMLTableSectionElement>('saml-keys-body');
const importBox = byId('saml-import');
const importForm = byId<HTMLFormElement>('saml-import-form');
const pemField = byId<HTMLTextAreaElement>('saml-cert-pem');
const fileField = byId<HTMLInputElement>('saml-cert-file');
let keys: SamlKey[] = [];
let importKid: string | null = null;

const approvals = approvalsList({
  body: byId<HTMLTableSectionElement>('saml-approvals-body'),
  empty: byId('saml-approvals-none'),
  result: byId('saml-approval-result'),
  kinds: ['saml-key-activation', 'saml-key-destroy', 'saml-key-discard'],
  kindWords: {
    'saml-key-activation': t('samlKeys.approvals.kind.saml-key-activation'),
    'saml-key-destroy': t('samlKeys.approvals.kind.saml-key-destroy'),
    'saml-key-discard': t('samlKeys.approvals.kind.saml-key-discard'),
  },
  meId: () => state.me?.id,
  accessLost: (err) => handleAccessLost(err),
  afterDecision: async () => {
    await loadSamlKeys();
  },
});

/** Loads the SAML keys and their requests; hides the section when the gateway runs no SAML IdP. */
export async function loadSamlKeys(): Promise<void> {
  try {
    ({ keys } = await api<{ keys: SamlKey[] }>('GET', '/api/security/saml/keys'));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      section.hidden = true;
      return;
    }
    if (!handleAccessLost(err)) showError(err, { context: t('samlKeys.loadFailed') });
    return;
  }
  section.hidden = false;
  body.replaceChildren(...keys.map(keyRow));
  byId('saml-keys-none').hidden = keys.length > 0;
  await approvals.load();
}

function certificateCell(k: SamlKey): HTMLTableCellElement {
  const c = k.certificate;
  const kind = el('strong', 'saml-cert-kind', c.selfSigned ? t('samlKeys.cert.selfSigned') : t('samlKeys.cert.caIssued'));
  const td = el('td', 'saml-cert');
  td.dataset['selfSigned'] = String(c.selfSigned);
  td.append(
    kind,
    el('br'),
    el('span', 'saml-cert-subject', ...tn('samlKeys.cert.subject', { value: el('code', undefined, c.subject.replace(/\n/g, ', ')) })),
    el('br'),
    el('span', 'saml-cert-issuer', ...tn('samlKeys.cert.issuer', { value: el('code', undefined, c.issuer.replace(/\n/g, ', ')) })),
    el('br'),
    el('span', 'saml-cert-valid', ...tn('samlKeys.cert.valid', { from: timeElement(c.validFrom), to: timeElement(c.validTo) })),
    el('br'),
    t('samlKeys.cert.sha256'),
    ' ',
    el('code', 'saml-cert-sha256', c.sha256),
  );
  return td;
}

function keyRow(k: SamlKey): HTMLTableRowElement {
  const tr = el('tr', 'saml-key-row');
  tr.dataset['kid'] = k.kid;
  tr.dataset['state'] = k.state;
  const stateText = el('span', 'saml-key-state-text', t(`samlKeys.state.${k.state}`));
  stateText.className = `state state-${k.state}`;
  const kid = el('th', 'saml-key-kid', kidElement(k.kid));
  kid.scope = 'row';
  const actions = el('td', 'saml-key-actions');
  const wrap = el('div');
  wrap.className = 'actions-cell';
  if (k.state === 'pending' || k.state === 'active') {
    const csr = el('a', 'saml-csr-link', ...tn('samlKeys.csr', { hidden, kid: k.kid }));
    csr.href = `/api/security/saml/keys/${encodeURIComponent(k.kid)}/csr`;
    csr.download = `saml-${k.kid.slice(0, 8)}.csr.pem`;
    csr.className = 'button-link';
    wrap.append(csr);
  }
  if (k.state === 'pending') {
    wrap.append(
      actionButton(tn('samlKeys.import', { hidden, kid: k.kid }), 'saml-import-button', 'secondary-button', () => openImport(k.kid)),
      actionButton(tn('samlKeys.activate', { hidden, kid: k.kid }), 'saml-activate-button', '', (b) => void askStep(k.kid, 'activation', b)),
      // A pending key nobody wants leaves without ever becoming active (NSIS 6 (Substantial) 11).
      actionButton(tn('samlKeys.discard', { hidden, kid: k.kid }), 'saml-discard-button', 'danger-button', (b) => void askStep(k.kid, 'discard', b)),
    );
  }
  if (k.state === 'retired') {
    wrap.append(actionButton(tn('samlKeys.destroy', { hidden, kid: k.kid }), 'saml-destroy-button', 'danger-button', (b) => void askStep(k.kid, 'destroy', b)));
  }
  if (wrap.childElementCount > 0) actions.append(wrap);
  else actions.append(t('common.none'));
  tr.append(el('td', 'saml-key-state', stateText), kid, el('td', 'saml-key-alg', k.algorithm), certificateCell(k), actions);
  return tr;
}

function actionButton(text: Node[], testid: string, className: string, onClick: (b: HTMLButtonElement) => void): HTMLButtonElement {
  const b = el('button', testid, ...text);
  b.type = 'button';
  if (className) b.className = className;
  b.addEventListener('click', () => onClick(b));
  return b;
}

function openImport(kid: string): void {
  importKid = kid;
  pemField.value = '';
  fileField.value = '';
  byId('saml-import-heading').textContent = t('samlKeys.import.heading', { kid: shortKid(kid) });
  importBox.hidden = false;
  pemField.focus();
}

fileField.addEventListener('change', () => {
  const file = fileField.files?.[0];
  if (file) void file.text().then((text) => (pemField.value = text));
});

byId('saml-import-cancel').addEventListener('click', () => {
  importBox.hidden = true;
  importKid = null;
});

importForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const kid = importKid;
  if (!kid) return;
  clearMessages();
  const pem = pemField.value.trim();
  if (!pem) {
    showError(new Error(t('samlKeys.import.empty')));
    pemField.focus();
    return;
  }
  void busy(byId<HTMLButtonElement>('saml-import-submit'), importForm, async () => {
    try {
      await stepUpApi('POST', `/api/security/saml/keys/${encodeURIComponent(kid)}/certificate`, { certificatePem: pem });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: t('samlKeys.import.failed') });
      return;
    }
    importBox.hidden = true;
    importKid = null;
    await loadSamlKeys();
    setStatus(t('samlKeys.import.done', { kid: shortKid(kid) }));
    focusElement(byId('saml-keys-heading'));
  });
});

byId<HTMLButtonElement>('saml-generate').addEventListener('click', (event) => {
  const button = event.currentTarget as HTMLButtonElement;
  clearMessages();
  void busy(button, null, async () => {
    try {
      await stepUpApi('POST', '/api/security/saml/keys', {});
    } catch (err) {
      if (!handleAccessLost(err)) showError(err, { context: t('samlKeys.generateFailed') });
      return;
    }
    await loadSamlKeys();
    setStatus(t('samlKeys.generated'));
    focusElement(byId('saml-keys-heading'));
  });
});

type Step = 'activation' | 'destroy' | 'discard';
const STEP_PATHS: Record<Step, string> = { activation: 'activate', destroy: 'destroy', discard: 'discard' };

function confirmation(step: Step, short: string): { heading: string; paragraphs: string[]; confirm: string } {
  if (step === 'activation') return { heading: t('samlKeys.activate.heading', { kid: short }), paragraphs: [t('samlKeys.activate.text', { kid: short })], confirm: t('samlKeys.activate.confirm') };
  if (step === 'destroy') return { heading: t('samlKeys.destroy.heading', { kid: short }), paragraphs: [t('samlKeys.destroy.text', { kid: short })], confirm: t('samlKeys.destroy.confirm') };
  return { heading: t('samlKeys.discard.heading', { kid: short }), paragraphs: [t('samlKeys.discard.text', { kid: short })], confirm: t('samlKeys.discard.confirm') };
}

async function askStep(kid: string, step: Step, button: HTMLButtonElement): Promise<void> {
  clearMessages();
  const ok = await confirmAction(confirmation(step, shortKid(kid)));
  if (!ok) return;
  await busy(button, null, async () => {
    let waiting = true;
    try {
      const answer = await stepUpApi<{ approval?: unknown }>('POST', `/api/security/saml/keys/${encodeURIComponent(kid)}/${STEP_PATHS[step]}`, {});
      waiting = answer.approval !== undefined;
    } catch (err) {
      if (handleAccessLost(err)) return;
      await loadSamlKeys();
      showError(err, { context: t('samlKeys.stepFailed') });
      return;
    }
    await loadSamlKeys();
    setStatus(waiting ? t('samlKeys.asked') : t('samlKeys.done'));
    focusElement(byId('saml-approvals-heading'));
  });
}
