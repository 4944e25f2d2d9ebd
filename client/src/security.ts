// Security team page (security.html): the gateway's HSM signing keys and their attribute check,
// the published JWKS, key management requests under two-person control, and audit verification.
import { ApiError, api, busy, byId, clearMessages, focusElement, formatDate, renderHeader, setStatus, showError, timeElement, withPageDates } from './common.js';
import type { Identity } from './common.js';
import { openStaffPage, pageGate } from './console.js';
import { stepUpApi } from './stepUp.js';
import { itemsList, notApprovableText, showTwoPersonBanner, type ApprovalFields, type DutiesStatus } from './duties.js';

renderHeader('security');

// ---------------------------------------------------------------- API types

type KeyState = 'pending' | 'active' | 'retired' | 'destroyed';
type RequestKind = 'rotation' | 'emergency-rotation' | 'destroy';
type RequestState = 'pending' | 'executed' | 'rejected' | 'failed' | 'withdrawn';

interface TokenAttributeCheck {
  token: string;
  status: 'ok' | 'unavailable';
  present: boolean;
  publicKeyPresent: boolean;
  ok: boolean;
  violations: string[];
}

interface AttributeCheck {
  ok: boolean;
  violations: string[];
  error?: string;
  profile?: KeyPolicy;
  tokens?: TokenAttributeCheck[];
}

type KeyPolicy = 'strict' | 'replicated';

interface HsmOverview {
  keyPolicy: KeyPolicy;
  tokens: Array<{ name: string; tokenLabel: string; status: 'ok' | 'unavailable'; signing: boolean }>;
}

interface SigningKey {
  kid: string;
  ckaId: string;
  label: string;
  alg: string;
  state: KeyState;
  createdAt: string;
  promoteAt: string | null;
  activatedAt: string | null;
  retiredAt: string | null;
  publishedUntil: string | null;
  destroyedAt: string | null;
  compromisedAt: string | null;
  attributeCheck: AttributeCheck | null;
}

interface JwkSet {
  keys: Array<Record<string, unknown>>;
}

interface KeyRequest extends ApprovalFields {
  id: string;
  kind: RequestKind;
  targetKid: string | null;
  reason: string;
  requestedBy: string;
  requestedByName?: string | null;
  requestedAt: string;
  state: RequestState;
  decidedBy: string | null;
  decidedByName?: string | null;
  decidedAt: string | null;
  result: string | null;
}

interface AuditReport {
  ok: boolean;
  chain: { ok: boolean; entries: number; headHash?: string; firstBrokenSeq?: number; problem?: string };
  checkpoints: Array<{ id: number; seq: number; at: string; kid: string; ok: boolean; problem?: string }>;
  unanchoredEntries: number;
  truncated: boolean;
  problems: string[];
  anchor: { source: 'hsm' | 'file' | 'none'; description: string };
  witness: { source: string; checkpoints: number; matched: number } | null;
  notes: string[];
}

// ------------------------------------------------------------------- words

const KEY_STATE_WORDS: Record<KeyState, string> = {
  pending: 'Pending (published, not signing yet)',
  active: 'Active (signing)',
  retired: 'Retired',
  destroyed: 'Destroyed',
};

const POLICY_WORDS: Record<KeyPolicy, string> = {
  strict:
    'every signing key was generated in this HSM and never left it (read back: sensitive, never extractable, always sensitive, generated on the token, for signing only).',
  replicated:
    'signing keys may be copies cloned or restored under wrap onto an HA partner, so “generated on this token” and “never extractable” are not required; they must still be sensitive, non-extractable and for signing only.',
};

const KIND_WORDS: Record<RequestKind, string> = {
  rotation: 'Rotation',
  'emergency-rotation': 'Emergency rotation',
  destroy: 'Destruction',
};

const KIND_HINTS: Record<RequestKind, string> = {
  rotation:
    'A new key is made in the HSM and published at once. It starts signing after the propagation delay; the active key then retires and stays published until the tokens it signed have expired.',
  'emergency-rotation':
    'Only if the active key may be compromised. A new key starts signing at once; the old key is unpublished and destroyed, so every token it signed stops verifying at once.',
  destroy: 'Removes a retired key from the HSM for good. Do this only after its published-until time, when no valid token can depend on it.',
};

const REQUEST_STATE_WORDS: Record<RequestState, string> = {
  pending: 'Waiting for approval',
  executed: 'Approved and carried out',
  rejected: 'Rejected',
  failed: 'Approved, but failed',
  withdrawn: 'Withdrawn (the requester is no longer a security officer)',
};

const WAITING_NOTE = 'Waiting for a second security officer';

// ---------------------------------------------------------------- elements

const keysBody = byId<HTMLTableSectionElement>('keys-body');
const requestsBody = byId<HTMLTableSectionElement>('requests-body');
const jwksPre = byId<HTMLPreElement>('jwks');
const form = byId<HTMLFormElement>('request-form');
const kindSelect = byId<HTMLSelectElement>('request-kind');
const targetField = byId('request-target-field');
const targetSelect = byId<HTMLSelectElement>('request-target');
const reasonInput = byId<HTMLTextAreaElement>('request-reason');
const submitButton = byId<HTMLButtonElement>('request-submit');
const auditButton = byId<HTMLButtonElement>('audit-verify');
const auditResult = byId('audit-result');
const dialog = byId<HTMLDialogElement>('confirm-dialog');

let me: Identity | null = null;
let keys: SigningKey[] = [];
let requests: KeyRequest[] = [];
/** False once the session ended or the role was withdrawn: late answers are then ignored. */
let allowed = false;
/** True while there is one security officer: a request is carried out at once (two-person control off). */
let alone = false;

// ------------------------------------------------------------------ loading

// Declared before the first load: it runs at once.
const gate = pageGate(() => hideOfficerTools(), 'not-officer');
const showSignedOut = gate.showSignedOut;
const showNotOfficer = gate.showNotAllowed;

void load();

async function load(): Promise<void> {
  me = await openStaffPage('security-officer', 'Sign in with your security key to manage the gateway’s signing keys.', gate, 'Loading the signing keys…');
  if (!me) return;
  allowed = true;
  updateRequestForm();
  if (await refresh()) setStatus(summary());
  // Says which FIDO metadata is in force, and whether there is any to reload.
  await loadFleet(false).catch((err: unknown) => {
    if (!handleAccessLost(err)) showError(err, { context: 'The FIDO metadata state could not be loaded.' });
  });
}

/** Reloads keys (with the JWKS) and requests. Shows the first failure; false if anything failed. */
async function refresh(): Promise<boolean> {
  const [keysAnswer, requestsAnswer] = await Promise.allSettled([
    api<{ keys: SigningKey[]; jwks: JwkSet; hsm?: HsmOverview }>('GET', '/api/security/keys'),
    api<{ requests: KeyRequest[]; status: DutiesStatus }>('GET', '/api/security/key-requests'),
  ]);
  if (!allowed) return false;
  for (const answer of [keysAnswer, requestsAnswer]) {
    if (answer.status === 'rejected' && handleAccessLost(answer.reason)) return false;
  }
  if (keysAnswer.status === 'fulfilled') {
    keys = keysAnswer.value.keys;
    renderHsm(keysAnswer.value.hsm);
    renderKeys();
    jwksPre.textContent = JSON.stringify(keysAnswer.value.jwks, null, 2);
  }
  if (requestsAnswer.status === 'fulfilled') {
    requests = requestsAnswer.value.requests;
    const status = requestsAnswer.value.status;
    showTwoPersonBanner(byId('duties-banner'), status, 'security');
    alone = status.controls.some((c) => c.action === 'hsm-key-rotation' && !c.on);
    submitButton.textContent = alone ? 'Carry it out now (there is no second security officer yet)' : 'Send request for approval';
  }
  // Requests are drawn after the keys: a request names its key by the keys' list.
  renderRequests();
  updateRequestForm();
  byId('officer-content').hidden = false;
  if (keysAnswer.status === 'rejected') {
    showError(keysAnswer.reason, { context: 'The signing keys could not be loaded.' });
    return false;
  }
  if (requestsAnswer.status === 'rejected') {
    showError(requestsAnswer.reason, { context: 'The key requests could not be loaded.' });
    return false;
  }
  return true;
}

function summary(): string {
  const active = keys.filter((k) => k.state === 'active').length;
  const waiting = requests.filter((r) => r.state === 'pending').length;
  const keyWords = keys.length === 1 ? '1 signing key' : `${keys.length} signing keys`;
  const waitingWords = waiting === 0 ? 'No request is waiting for approval.' : waiting === 1 ? '1 request is waiting for approval.' : `${waiting} requests are waiting for approval.`;
  return `${keyWords}, ${active} active. ${waitingWords}`;
}

// ---------------------------------------------------------------- rendering

function el<K extends keyof HTMLElementTagNameMap>(tag: K, testid?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (testid) e.dataset['testid'] = testid;
  e.append(...children);
  return e;
}

function hidden(text: string): HTMLSpanElement {
  const s = el('span', undefined, text);
  s.className = 'visually-hidden';
  return s;
}

function shortKid(kid: string): string {
  return kid.length > 14 ? `${kid.slice(0, 8)}…${kid.slice(-4)}` : kid;
}

/** A key id in monospace, shortened on screen; the full value in the title and for screen readers. */
function kidElement(kid: string, testid?: string): HTMLElement {
  const code = el('code', testid);
  code.className = 'kid';
  code.title = kid;
  const visible = el('span', undefined, shortKid(kid));
  visible.setAttribute('aria-hidden', 'true');
  code.append(visible, hidden(kid));
  return code;
}

function officerText(id: string | null, name?: string | null): HTMLElement | string {
  if (!id) return '—';
  if (me && id === me.id) return 'you';
  const span = el('span', undefined, name ?? `another officer (${id.slice(0, 8)})`);
  span.title = id;
  return span;
}

/** The key policy profile in force and the HSM tokens (several when they fail over to each other). */
function renderHsm(hsm: HsmOverview | undefined): void {
  const box = byId('hsm-overview');
  box.hidden = !hsm;
  if (!hsm) return;
  const policy = byId('key-policy');
  policy.replaceChildren(el('strong', undefined, 'Key policy: '), el('span', 'key-policy-profile', hsm.keyPolicy), ` — ${POLICY_WORDS[hsm.keyPolicy]}`);
  policy.dataset['profile'] = hsm.keyPolicy;
  const intro = hsm.tokens.length > 1 ? `${hsm.tokens.length} HSM tokens hold the keys; the first available one signs:` : 'HSM token:';
  byId('hsm-tokens').setAttribute('aria-label', intro);
  byId('hsm-tokens').replaceChildren(
    ...hsm.tokens.map((t) => {
      const state = el('span', undefined, t.status === 'ok' ? (t.signing ? 'available, signing' : 'available') : 'unavailable');
      state.className = t.status === 'ok' ? 'token-ok' : 'token-down';
      const li = el('li', 'hsm-token', el('strong', undefined, t.name), ` (token label “${t.tokenLabel}”): `, state);
      li.dataset['status'] = t.status;
      return li;
    }),
  );
}

function renderKeys(): void {
  keysBody.replaceChildren(...keys.map(keyRow));
  byId('no-keys').hidden = keys.length > 0;
}

function keyRow(k: SigningKey): HTMLTableRowElement {
  const tr = el('tr', 'key-row');
  tr.dataset['kid'] = k.kid;
  tr.dataset['state'] = k.state;

  const stateText = el('span', 'key-state-text', KEY_STATE_WORDS[k.state] ?? k.state);
  stateText.className = `state state-${k.state}`;
  const state = el('td', 'key-state', stateText);
  if (k.compromisedAt) state.append(el('br'), el('span', 'key-compromised', 'Compromised ', timeElement(k.compromisedAt)));

  const kid = el('th', 'key-kid', kidElement(k.kid));
  kid.scope = 'row';

  const activated = el('td', 'key-activated');
  if (k.activatedAt) activated.append(timeElement(k.activatedAt));
  else if (k.state === 'pending' && k.promoteAt) activated.append('Starts signing ', timeElement(k.promoteAt));
  else activated.append('—');

  const retired = el('td', 'key-retired');
  if (k.retiredAt) {
    retired.append('Retired ', timeElement(k.retiredAt));
    if (k.destroyedAt) retired.append(el('br'), 'Destroyed ', timeElement(k.destroyedAt));
    else if (k.publishedUntil) retired.append(el('br'), 'Published until ', timeElement(k.publishedUntil));
  } else if (k.destroyedAt) {
    retired.append('Destroyed ', timeElement(k.destroyedAt));
  } else {
    retired.append('—');
  }

  tr.append(
    state,
    el('td', 'key-alg', k.alg),
    kid,
    el('td', 'key-created', timeElement(k.createdAt)),
    activated,
    retired,
    attributeCell(k.attributeCheck),
  );
  return tr;
}

function attributeCell(check: AttributeCheck | null): HTMLTableCellElement {
  const td = el('td', 'key-attribute-check');
  if (!check) {
    const none = el('span', undefined, 'Not checked: the key is no longer in the HSM');
    none.className = 'check-none';
    td.append(none);
    return td;
  }
  td.dataset['ok'] = String(check.ok);
  const tokens = check.tokens ?? [];
  const missing = tokens.filter((t) => t.status === 'ok' && !t.present).map((t) => t.token);
  const down = tokens.filter((t) => t.status !== 'ok').map((t) => t.token);
  const onTokens = (): HTMLElement | string => {
    if (tokens.length < 2 && down.length === 0) return '';
    const parts = [`on ${tokens.filter((t) => t.present).map((t) => t.token).join(', ') || 'no token'}`];
    if (missing.length > 0) parts.push(`not on ${missing.join(', ')}`);
    if (down.length > 0) parts.push(`${down.join(', ')} unavailable`);
    const span = el('span', 'key-check-tokens', parts.join('; '));
    span.className = 'check-tokens';
    return span;
  };
  if (check.ok) {
    const ok = el('span', undefined, 'OK: sensitive, non-extractable, signing only');
    ok.className = 'check-ok';
    td.append(ok, onTokens());
    return td;
  }
  const bad = el('div');
  bad.className = 'check-bad';
  if (check.error) bad.append(el('span', undefined, `Could not be checked: ${check.error}`));
  if (check.violations.length > 0) {
    bad.append(el('span', undefined, 'Violates the key policy:'), el('ul', undefined, ...check.violations.map((v) => el('li', 'key-violation', v))));
  } else if (!check.error) {
    bad.append(el('span', undefined, 'Not OK'));
  }
  td.append(bad, onTokens());
  return td;
}

function renderRequests(): void {
  requestsBody.replaceChildren(...requests.map(requestRow));
  byId('no-requests').hidden = requests.length > 0;
}

function requestRow(r: KeyRequest): HTMLTableRowElement {
  const tr = el('tr', 'request-row');
  tr.dataset['requestId'] = r.id;
  tr.dataset['state'] = r.state;
  tr.dataset['kind'] = r.kind;
  const kindWords = KIND_WORDS[r.kind] ?? r.kind;

  const kind = el('th', 'request-kind', kindWords);
  kind.scope = 'row';

  const target = el('td', 'request-target', r.targetKid ? kidElement(r.targetKid) : r.kind === 'rotation' ? 'The active key' : '—');

  const reason = el('td', 'request-reason', r.reason, itemsList(r.items, 'request-items'));
  reason.className = 'request-reason';

  const asked = el('td', 'request-asked', 'By ', officerText(r.requestedBy, r.requestedByName), el('br'), timeElement(r.requestedAt));

  const stateText = el('span', 'request-state-text', REQUEST_STATE_WORDS[r.state] ?? r.state);
  stateText.className = `state request-${r.state}`;
  const state = el('td', 'request-state', stateText);

  const decision = el('td', 'request-decision');
  if (r.decidedBy || r.decidedAt) {
    const verb = r.state === 'rejected' ? 'Rejected by ' : 'Approved by ';
    decision.append(verb, officerText(r.decidedBy, r.decidedByName), el('br'), timeElement(r.decidedAt));
  } else {
    decision.append('—');
  }
  if (r.result && r.state !== 'rejected') {
    const result = el('span', 'request-result', withPageDates(r.result));
    result.className = 'request-result';
    decision.append(result);
  }

  const actions = el('td', 'request-actions');
  if (r.state === 'pending' && me) {
    // The server says whether this officer may approve (not the requester, not set up by them).
    const wrap = el('div');
    wrap.className = 'actions-cell';
    if (r.canApprove) {
      const approveButton = el('button', 'approve-button', 'Approve', hidden(` ${kindWords.toLowerCase()} request`));
      approveButton.type = 'button';
      approveButton.addEventListener('click', () => void approve(r, approveButton));
      wrap.append(approveButton);
    } else {
      const note = el('span', r.requestedBy === me.id ? 'waiting-note' : 'cannot-approve-note', notApprovableText(r, me.id, WAITING_NOTE));
      note.className = 'waiting-note';
      actions.append(note);
    }
    if (r.requestedBy !== me.id) {
      const rejectButton = el('button', 'reject-button', 'Reject', hidden(` ${kindWords.toLowerCase()} request`));
      rejectButton.type = 'button';
      rejectButton.className = 'secondary-button';
      rejectButton.addEventListener('click', () => void reject(r, rejectButton));
      wrap.append(rejectButton);
    }
    if (wrap.childElementCount > 0) actions.append(wrap);
  }

  tr.append(kind, target, reason, asked, state, decision, actions);
  return tr;
}

// ------------------------------------------------------------ confirmations

interface ConfirmText {
  heading: string;
  paragraphs: string[];
  confirm: string;
}

/** Asks in the modal dialog; resolves true only for the confirm button. Focus starts on Cancel. */
function confirmAction(text: ConfirmText): Promise<boolean> {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  byId('confirm-heading').textContent = text.heading;
  byId('confirm-explanation').replaceChildren(...text.paragraphs.map((p) => el('p', undefined, p)));
  byId('confirm-ok').textContent = text.confirm;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        resolve(dialog.returnValue === 'ok');
        if (opener?.isConnected) opener.focus();
      },
      { once: true },
    );
    dialog.showModal();
    byId('confirm-cancel').focus();
  });
}

byId('confirm-cancel').addEventListener('click', () => dialog.close(''));

function emergencyText(kid: string, approving: boolean): ConfirmText {
  return {
    heading: approving ? 'Approve the emergency rotation now?' : alone ? 'Carry out an emergency rotation now?' : 'Ask for an emergency rotation?',
    paragraphs: [
      `${approving ? 'When you approve' : alone ? 'At once (there is no second security officer yet)' : 'When a second security officer approves'}, a new key starts signing at once, and key ${shortKid(kid)} is unpublished and destroyed in the HSM.`,
      'Every token signed by this key stops verifying at once. Services that rely on those tokens will refuse them, and people may have to sign in again.',
      'Use this only if the key may be compromised. For a planned change, choose an ordinary rotation.',
    ],
    confirm: approving ? 'Approve emergency rotation' : alone ? 'Carry out emergency rotation' : 'Ask for emergency rotation',
  };
}

// ------------------------------------------------------- approve and reject

async function approve(r: KeyRequest, button: HTMLButtonElement): Promise<void> {
  clearMessages();
  if (r.kind === 'emergency-rotation' && r.targetKid) {
    if (!(await confirmAction(emergencyText(r.targetKid, true)))) return;
  } else if (r.kind === 'destroy' && r.targetKid) {
    const ok = await confirmAction({
      heading: 'Approve the destruction now?',
      paragraphs: [`Key ${shortKid(r.targetKid)} is removed from the HSM for good. This cannot be undone.`],
      confirm: 'Approve destruction',
    });
    if (!ok) return;
  }
  await busy(button, null, async () => {
    setStatus('Carrying out the request…');
    try {
      await stepUpApi<{ request: KeyRequest }>('POST', `/api/security/key-requests/${encodeURIComponent(r.id)}/approve`, {});
      if (await refresh()) setStatus(approvedMessage(r.kind));
      focusElement(byId('signing-keys-heading'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await refresh();
      showError(err, { context: `The ${KIND_WORDS[r.kind].toLowerCase()} request was not approved.` });
    }
  });
}

/** What an approval did, in words, from the keys as they are now. */
function approvedMessage(kind: RequestKind): string {
  if (kind === 'rotation') {
    const pending = keys.find((k) => k.state === 'pending');
    return pending
      ? `Rotation approved: a new key is published and starts signing ${formatDate(pending.promoteAt, 'after its propagation delay')}.`
      : 'Rotation approved: the new key is active and signing. The previous key is retired and stays published until the tokens it signed have expired.';
  }
  if (kind === 'emergency-rotation') return 'Emergency rotation approved: the new key is active and signing; the compromised key is unpublished and destroyed.';
  return 'Destruction approved: the key is removed from the HSM.';
}

async function reject(r: KeyRequest, button: HTMLButtonElement): Promise<void> {
  clearMessages();
  await busy(button, null, async () => {
    try {
      await stepUpApi<{ request: KeyRequest }>('POST', `/api/security/key-requests/${encodeURIComponent(r.id)}/reject`, {});
      if (await refresh()) setStatus(`${KIND_WORDS[r.kind]} request rejected. Nothing was changed.`);
      focusElement(byId('requests-heading'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await refresh();
      showError(err, { context: `The ${KIND_WORDS[r.kind].toLowerCase()} request was not rejected.` });
    }
  });
}

// ------------------------------------------------------------ request form

function isKind(v: string): v is RequestKind {
  return v === 'rotation' || v === 'emergency-rotation' || v === 'destroy';
}

/** Shows the target key field for the chosen kind, filled with the keys it may name. */
function updateRequestForm(): void {
  const kind = isKind(kindSelect.value) ? kindSelect.value : 'rotation';
  byId('request-kind-hint').textContent = KIND_HINTS[kind];
  if (kind === 'rotation') {
    targetField.hidden = true;
    targetSelect.replaceChildren();
    return;
  }
  const wanted: KeyState = kind === 'emergency-rotation' ? 'active' : 'retired';
  const candidates = keys.filter((k) => k.state === wanted);
  const previous = targetSelect.value;
  const options = candidates.map((k) => {
    const o = el('option', undefined, `${shortKid(k.kid)} · ${k.alg} · ${KEY_STATE_WORDS[k.state]}`);
    o.value = k.kid;
    o.title = k.kid;
    return o;
  });
  if (options.length === 0) {
    const none = el('option', undefined, wanted === 'active' ? 'There is no active key' : 'There is no retired key');
    none.value = '';
    options.push(none);
  }
  targetSelect.replaceChildren(...options);
  if (candidates.some((k) => k.kid === previous)) targetSelect.value = previous;
  byId('request-target-label').textContent = wanted === 'active' ? 'Active key to replace' : 'Retired key to destroy';
  byId('request-target-hint').textContent =
    wanted === 'active' ? 'The key that may be compromised.' : 'Only retired keys can be destroyed.';
  targetField.hidden = false;
}

kindSelect.addEventListener('change', () => {
  clearMessages(form);
  updateRequestForm();
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void submitRequest();
});

async function submitRequest(): Promise<void> {
  clearMessages(form);
  const kind = kindSelect.value;
  if (!isKind(kind)) {
    showError(new Error('Choose what should happen.'), { invalid: kindSelect });
    return;
  }
  const targetKid = kind === 'rotation' ? undefined : targetSelect.value;
  if (kind !== 'rotation' && !targetKid) {
    showError(
      new Error(kind === 'emergency-rotation' ? 'There is no active key to replace.' : 'There is no retired key to destroy.'),
      { invalid: targetSelect },
    );
    return;
  }
  const reason = reasonInput.value.trim();
  if (reason.length < 3) {
    showError(new Error('Enter a reason of at least 3 characters.'), { invalid: reasonInput });
    return;
  }
  if (kind === 'emergency-rotation' && targetKid) {
    if (!(await confirmAction(emergencyText(targetKid, false)))) {
      setStatus('Nothing was requested.');
      return;
    }
  }
  await busy(submitButton, form, async () => {
    setStatus('Sending the request…');
    try {
      const answer = await stepUpApi<{ request: KeyRequest | null; result: string | null }>('POST', '/api/security/key-requests', targetKid ? { kind, targetKid, reason } : { kind, reason });
      form.reset();
      updateRequestForm();
      const done = answer.request === null;
      if (await refresh()) {
        setStatus(
          done
            ? `${KIND_WORDS[kind]} carried out at once (you are the only security officer, so two-person control is off): ${answer.result ?? ''}`
            : `${KIND_WORDS[kind]} requested. A second security officer must approve it before anything happens.`,
        );
      }
      focusElement(byId('requests-heading'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await refresh();
      showError(err, { form, context: 'The request was not sent.' });
    }
  });
}

// -------------------------------------------------------------------- audit

auditButton.addEventListener('click', () => {
  void busy(auditButton, byId('audit-section'), async () => {
    clearMessages();
    setStatus('Verifying the audit trail…');
    try {
      const report = await api<AuditReport>('GET', '/api/security/audit');
      renderAudit(report);
      setStatus(report.ok ? 'The audit trail verified.' : 'The audit trail has problems. See the audit result.');
    } catch (err) {
      if (handleAccessLost(err)) return;
      auditResult.hidden = true;
      showError(err, { context: 'The audit trail could not be verified.' });
    }
  });
});

function renderAudit(r: AuditReport): void {
  auditResult.dataset['ok'] = String(r.ok);
  const verdict = el('p', 'audit-verdict', r.ok ? 'The audit trail is intact.' : 'The audit trail has problems.');
  verdict.className = 'audit-verdict';
  const facts = el('ul', 'audit-facts');
  // The keys come from outside the database it checks (NSIS 6 (Low) 7).
  facts.append(el('li', 'audit-anchor', `Checked against the keys of ${r.anchor.description}.`));
  if (r.chain.ok) {
    const head = r.chain.headHash ? [' Head: ', kidElement(r.chain.headHash)] : [];
    facts.append(el('li', 'audit-chain', `Hash chain: ${r.chain.entries} entries, unbroken.`, ...head));
  } else {
    facts.append(el('li', 'audit-chain', `Hash chain broken at entry ${r.chain.firstBrokenSeq ?? '?'}${r.chain.problem ? `: ${r.chain.problem}` : ''}.`));
  }
  const valid = r.checkpoints.filter((c) => c.ok).length;
  const newest = r.checkpoints.filter((c) => c.ok).at(-1);
  const checkpointItem = el('li', 'audit-checkpoints', `Signed checkpoints: ${valid} of ${r.checkpoints.length} verify.`);
  if (newest) checkpointItem.append(` Newest covers entry ${newest.seq}, signed `, timeElement(newest.at), ' by key ', kidElement(newest.kid), '.');
  facts.append(checkpointItem);
  facts.append(
    el(
      'li',
      'audit-unanchored',
      r.unanchoredEntries === 0
        ? 'Every entry is covered by a signed checkpoint.'
        : `${r.unanchoredEntries} ${r.unanchoredEntries === 1 ? 'entry is' : 'entries are'} newer than the newest valid checkpoint.`,
    ),
  );
  if (r.witness) {
    facts.append(el('li', 'audit-witness', `Witness outside the database: ${r.witness.checkpoints} ${r.witness.checkpoints === 1 ? 'checkpoint' : 'checkpoints'}, ${r.witness.matched} of them in the database unchanged.`));
  }
  if (r.truncated) facts.append(el('li', 'audit-truncated', 'Entries were removed after a signed checkpoint.'));
  for (const note of r.notes) facts.append(el('li', 'audit-note', note));
  const parts: Node[] = [verdict, facts];
  if (r.problems.length > 0) {
    const problems = el('ul', 'audit-problems', ...r.problems.map((p) => el('li', 'audit-problem', p)));
    problems.className = 'audit-problems';
    parts.push(el('p', undefined, 'Problems:'), problems);
  }
  auditResult.replaceChildren(...parts);
  auditResult.hidden = false;
}

// ------------------------------------------------------------- access lost

/** 401 (session ended) or 403 ROLE_REQUIRED after loading: say so and hide the officer tools. */
function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    allowed = false;
    showSignedOut('Your session has ended. Sign in again to manage the signing keys.', 'Session ended');
    return true;
  }
  if (err.status === 403 && err.code === 'ROLE_REQUIRED') {
    allowed = false;
    showNotOfficer(true);
    return true;
  }
  return false;
}

function hideOfficerTools(): void {
  if (dialog.open) dialog.close('');
  byId('officer-content').hidden = true;
  keysBody.replaceChildren();
  requestsBody.replaceChildren();
  jwksPre.textContent = '';
}


// ----------------------------------------------------------------- fleet (FIDO metadata)

interface FleetRow {
  aaguid: string;
  model: string | null;
  certification: string | null;
  aal: string | null;
  state: string;
  count: number;
}

const fleetButton = byId<HTMLButtonElement>('fleet-refresh');
const metadataButton = byId<HTMLButtonElement>('metadata-reload');

interface FleetReport {
  metadataConfigured: boolean;
  metadata: { number: number; nextUpdate: string; stale: boolean } | null;
  fleet: FleetRow[];
}

/** Draws the metadata state; "Reload" is offered only when a BLOB source is configured. */
function showMetadataState(r: FleetReport): void {
  byId('fleet-metadata').textContent = r.metadata
    ? `FIDO metadata BLOB no. ${r.metadata.number}, next update ${formatDate(r.metadata.nextUpdate)}${r.metadata.stale ? ' (overdue: place a newer BLOB and reload)' : ''}.`
    : 'No FIDO metadata is in force: no key can reach High.';
  const hint = byId('metadata-reload-hint');
  metadataButton.disabled = !r.metadataConfigured;
  hint.hidden = r.metadataConfigured;
  if (r.metadataConfigured) metadataButton.removeAttribute('aria-describedby');
  else metadataButton.setAttribute('aria-describedby', hint.id);
}

/** GET the fleet report; draws the metadata state, and the table when `withTable`. */
async function loadFleet(withTable: boolean): Promise<void> {
  const r = await api<FleetReport>('GET', '/api/security/fleet');
  if (!allowed) return;
  showMetadataState(r);
  if (withTable) renderFleet(r);
}

async function showFleet(): Promise<void> {
  await loadFleet(true);
}

function renderFleet(r: FleetReport): void {
  byId('fleet-body').replaceChildren(
    ...r.fleet.map((f) => {
      const row = el('tr', 'fleet-row');
      row.dataset['aaguid'] = f.aaguid;
      row.dataset['state'] = f.state;
      row.append(el('td', undefined, f.model ?? `Unverified model ${f.aaguid}`), el('td', undefined, f.certification ?? '—'), el('td', undefined, f.aal ?? '—'), el('td', undefined, f.state), el('td', undefined, String(f.count)));
      return row;
    }),
  );
  byId('fleet-table').hidden = false;
}

fleetButton.addEventListener('click', () => {
  void busy(fleetButton, byId('fleet-section'), async () => {
    clearMessages();
    try {
      await showFleet();
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: 'The fleet report could not be loaded.' });
    }
  });
});

metadataButton.addEventListener('click', () => {
  void busy(metadataButton, byId('fleet-section'), async () => {
    clearMessages();
    try {
      const r = await api<{ results: { replaced: boolean; code?: string; message?: string }[]; compromisedModels: string[]; reRated: number }>('POST', '/api/security/metadata/reload', {});
      const refused = r.results.filter((x) => !x.replaced);
      setStatus(
        `${r.results.length - refused.length} BLOB(s) loaded${refused.length ? `, ${refused.length} refused (${refused.map((x) => x.code ?? '').join(', ')}); the previous metadata stays in force` : ''}. ` +
          `${r.compromisedModels.length} compromised model(s) taken out of use; ${r.reRated} key(s) re-rated.`,
      );
      await showFleet();
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: 'The FIDO metadata could not be reloaded.' });
    }
  });
});
