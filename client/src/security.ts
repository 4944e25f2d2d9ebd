// Security team page (security.html): the gateway's HSM signing keys and their attribute check,
// the published JWKS, key management requests under two-person control, and audit verification.
import { ApiError, api, busy, byId, clearMessages, focusElement, formatDate, fromServer, renderHeader, setStatus, showError, t, timeElement, tn, tp, withPageDates, wrapIn } from './common.js';
import { stateWords, type Identity } from './common.js';
import { ialWords, openStaffPage, pageGate } from './console.js';
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

const keyStateWords = (state: KeyState): string => t(`security.keyState.${state}`);
const kindWords = (kind: RequestKind): string => t(`security.kind.${kind}`);
const strong = wrapIn('strong');

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
  me = await openStaffPage('security-officer', t('security.signedOut.message'), gate, t('security.loading'));
  if (!me) return;
  allowed = true;
  updateRequestForm();
  if (await refresh()) setStatus(summary());
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
    submitButton.textContent = alone ? t('security.new.submitAlone') : t('security.new.submit');
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
  const active = keys.filter((k) => k.state === 'active').length;
  const waiting = requests.filter((r) => r.state === 'pending').length;
  const keyWords = tp('security.summary.keys', keys.length);
  const waitingWords = waiting === 0 ? t('security.summary.waiting.none') : tp('security.summary.waiting', waiting);
  return t('security.summary', { keys: keyWords, active, waiting: waitingWords });
}

// ---------------------------------------------------------------- rendering

function el<K extends keyof HTMLElementTagNameMap>(tag: K, testid?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (testid) e.dataset['testid'] = testid;
  e.append(...children);
  return e;
}

function hiddenText(text: string): HTMLSpanElement {
  const s = el('span', undefined, text);
  s.className = 'visually-hidden';
  return s;
}

/** Words only screen readers read (a <hidden> tag). */
const hidden = wrapIn('span', (s) => (s.className = 'visually-hidden'));

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
  code.append(visible, hiddenText(kid));
  return code;
}

function officerText(id: string | null, name?: string | null): HTMLElement | string {
  if (!id) return t('common.none');
  if (me && id === me.id) return t('common.you');
  const span = el('span', undefined, name ?? t('security.anotherOfficer', { id: id.slice(0, 8) }));
  span.title = id;
  return span;
}

/** The key policy profile in force and the HSM tokens (several when they fail over to each other). */
function renderHsm(hsm: HsmOverview | undefined): void {
  const box = byId('hsm-overview');
  box.hidden = !hsm;
  if (!hsm) return;
  const policy = byId('key-policy');
  policy.replaceChildren(...tn('security.policyLine', { strong, profile: el('code', 'key-policy-profile', hsm.keyPolicy), words: t(`security.policy.${hsm.keyPolicy}`) }));
  policy.dataset['profile'] = hsm.keyPolicy;
  const intro = hsm.tokens.length > 1 ? t('security.tokens.several', { count: hsm.tokens.length }) : t('security.tokens.single');
  byId('hsm-tokens').setAttribute('aria-label', intro);
  byId('hsm-tokens').replaceChildren(
    ...hsm.tokens.map((token) => {
      const state = el('span', undefined, token.status === 'ok' ? (token.signing ? t('security.token.signing') : t('security.token.available')) : t('security.token.unavailable'));
      state.className = token.status === 'ok' ? 'token-ok' : 'token-down';
      const li = el('li', 'hsm-token', ...tn('security.token.line', { strong, name: token.name, label: token.tokenLabel, state }));
      li.dataset['status'] = token.status;
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

  const stateText = el('span', 'key-state-text', keyStateWords(k.state));
  stateText.className = `state state-${k.state}`;
  const state = el('td', 'key-state', stateText);
  if (k.compromisedAt) state.append(el('br'), el('span', 'key-compromised', ...tn('security.key.compromised', { date: timeElement(k.compromisedAt) })));

  const kid = el('th', 'key-kid', kidElement(k.kid));
  kid.scope = 'row';

  const activated = el('td', 'key-activated');
  if (k.activatedAt) activated.append(timeElement(k.activatedAt));
  else if (k.state === 'pending' && k.promoteAt) activated.append(...tn('security.key.startsSigning', { date: timeElement(k.promoteAt) }));
  else activated.append(t('common.none'));

  const retired = el('td', 'key-retired');
  if (k.retiredAt) {
    retired.append(...tn('security.key.retired', { date: timeElement(k.retiredAt) }));
    if (k.destroyedAt) retired.append(el('br'), ...tn('security.key.destroyed', { date: timeElement(k.destroyedAt) }));
    else if (k.publishedUntil) retired.append(el('br'), ...tn('security.key.publishedUntil', { date: timeElement(k.publishedUntil) }));
  } else if (k.destroyedAt) {
    retired.append(...tn('security.key.destroyed', { date: timeElement(k.destroyedAt) }));
  } else {
    retired.append(t('common.none'));
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
    const none = el('span', undefined, t('security.check.notInHsm'));
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
    const list = (names: string[]): string => names.join(t('console.listSeparator'));
    const present = list(tokens.filter((x) => x.present).map((x) => x.token));
    const parts = [t('security.check.on', { tokens: present || t('security.check.noToken') })];
    if (missing.length > 0) parts.push(t('security.check.notOn', { tokens: list(missing) }));
    if (down.length > 0) parts.push(t('security.check.unavailable', { tokens: list(down) }));
    const span = el('span', 'key-check-tokens', parts.join(t('security.check.partsSeparator')));
    span.className = 'check-tokens';
    return span;
  };
  if (check.ok) {
    const ok = el('span', undefined, t('security.check.ok'));
    ok.className = 'check-ok';
    td.append(ok, onTokens());
    return td;
  }
  const bad = el('div');
  bad.className = 'check-bad';
  if (check.error) bad.append(el('span', undefined, ...tn('security.check.failed', { error: fromServer(check.error) })));
  if (check.violations.length > 0) {
    bad.append(el('span', undefined, t('security.check.violates')), el('ul', undefined, ...check.violations.map((v) => el('li', 'key-violation', fromServer(v)))));
  } else if (!check.error) {
    bad.append(el('span', undefined, t('security.check.notOk')));
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
  const kindText = kindWords(r.kind);

  const kind = el('th', 'request-kind', kindText);
  kind.scope = 'row';

  const target = el('td', 'request-target', r.targetKid ? kidElement(r.targetKid) : r.kind === 'rotation' ? t('security.target.activeKey') : t('common.none'));

  const reason = el('td', 'request-reason', r.reason, itemsList(r.items, 'request-items'));
  reason.className = 'request-reason';

  const asked = el('td', 'request-asked', ...tn('duties.by', { who: officerText(r.requestedBy, r.requestedByName) }), el('br'), timeElement(r.requestedAt));

  const stateText = el('span', 'request-state-text', t(`security.requestState.${r.state}`));
  stateText.className = `state request-${r.state}`;
  const state = el('td', 'request-state', stateText);

  const decision = el('td', 'request-decision');
  if (r.decidedBy || r.decidedAt) {
    const who = officerText(r.decidedBy, r.decidedByName);
    decision.append(...tn(r.state === 'rejected' ? 'duties.rejectedBy' : 'duties.approvedBy', { who }), el('br'), timeElement(r.decidedAt));
  } else {
    decision.append(t('common.none'));
  }
  if (r.result && r.state !== 'rejected') {
    const result = el('span', 'request-result', fromServer(withPageDates(r.result)));
    result.className = 'request-result';
    decision.append(result);
  }

  const actions = el('td', 'request-actions');
  if (r.state === 'pending' && me) {
    // The server says whether this officer may approve (not the requester, not set up by them).
    const wrap = el('div');
    wrap.className = 'actions-cell';
    if (r.canApprove) {
      const approveButton = el('button', 'approve-button', ...tn('security.approve', { kind: kindText.toLowerCase(), hidden }));
      approveButton.type = 'button';
      approveButton.addEventListener('click', () => void approve(r, approveButton));
      wrap.append(approveButton);
    } else {
      const note = el('span', r.requestedBy === me.id ? 'waiting-note' : 'cannot-approve-note', notApprovableText(r, me.id, t('security.waitingNote')));
      note.className = 'waiting-note';
      actions.append(note);
    }
    if (r.requestedBy !== me.id) {
      const rejectButton = el('button', 'reject-button', ...tn('security.reject', { kind: kindText.toLowerCase(), hidden }));
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
    heading: approving ? t('security.emergency.approve.heading') : alone ? t('security.emergency.alone.heading') : t('security.emergency.ask.heading'),
    paragraphs: [
      t(approving ? 'security.emergency.approve.when' : alone ? 'security.emergency.alone.when' : 'security.emergency.ask.when', { kid: shortKid(kid) }),
      t('security.emergency.tokens'),
      t('security.emergency.only'),
    ],
    confirm: approving ? t('security.emergency.approve.confirm') : alone ? t('security.emergency.alone.confirm') : t('security.emergency.ask.confirm'),
  };
}

// ------------------------------------------------------- approve and reject

async function approve(r: KeyRequest, button: HTMLButtonElement): Promise<void> {
  clearMessages();
  if (r.kind === 'emergency-rotation' && r.targetKid) {
    if (!(await confirmAction(emergencyText(r.targetKid, true)))) return;
  } else if (r.kind === 'destroy' && r.targetKid) {
    const ok = await confirmAction({
      heading: t('security.destroy.heading'),
      paragraphs: [t('security.destroy.text', { kid: shortKid(r.targetKid) })],
      confirm: t('security.destroy.confirm'),
    });
    if (!ok) return;
  }
  await busy(button, null, async () => {
    setStatus(t('security.carrying'));
    try {
      await stepUpApi<{ request: KeyRequest }>('POST', `/api/security/key-requests/${encodeURIComponent(r.id)}/approve`, {});
      if (await refresh()) setStatus(approvedMessage(r.kind));
      focusElement(byId('signing-keys-heading'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await refresh();
      showError(err, { context: t('security.approve.failed', { kind: kindWords(r.kind).toLowerCase() }) });
    }
  });
}

/** What an approval did, in words, from the keys as they are now. */
function approvedMessage(kind: RequestKind): string {
  if (kind === 'rotation') {
    const pending = keys.find((k) => k.state === 'pending');
    return pending
      ? t('security.rotation.pendingApproved', { date: formatDate(pending.promoteAt, t('security.rotation.afterDelay')) })
      : t('security.rotation.approved');
  }
  if (kind === 'emergency-rotation') return t('security.emergency.approved');
  return t('security.destroy.approved');
}

async function reject(r: KeyRequest, button: HTMLButtonElement): Promise<void> {
  clearMessages();
  await busy(button, null, async () => {
    try {
      await stepUpApi<{ request: KeyRequest }>('POST', `/api/security/key-requests/${encodeURIComponent(r.id)}/reject`, {});
      if (await refresh()) setStatus(t('security.reject.done', { kind: kindWords(r.kind) }));
      focusElement(byId('requests-heading'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await refresh();
      showError(err, { context: t('security.reject.failed', { kind: kindWords(r.kind).toLowerCase() }) });
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
  byId('request-kind-hint').textContent = t(`security.kindHint.${kind}`);
  if (kind === 'rotation') {
    targetField.hidden = true;
    targetSelect.replaceChildren();
    return;
  }
  const wanted: KeyState = kind === 'emergency-rotation' ? 'active' : 'retired';
  const candidates = keys.filter((k) => k.state === wanted);
  const previous = targetSelect.value;
  const options = candidates.map((k) => {
    const o = el('option', undefined, t('security.target.option', { kid: shortKid(k.kid), alg: k.alg, state: keyStateWords(k.state) }));
    o.value = k.kid;
    o.title = k.kid;
    return o;
  });
  if (options.length === 0) {
    const none = el('option', undefined, wanted === 'active' ? t('security.target.noActive') : t('security.target.noRetired'));
    none.value = '';
    options.push(none);
  }
  targetSelect.replaceChildren(...options);
  if (candidates.some((k) => k.kid === previous)) targetSelect.value = previous;
  byId('request-target-label').textContent = wanted === 'active' ? t('security.target.activeLabel') : t('security.target.retiredLabel');
  byId('request-target-hint').textContent = wanted === 'active' ? t('security.target.activeHint') : t('security.target.retiredHint');
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
    showError(new Error(t('security.new.kindMissing')), { invalid: kindSelect });
    return;
  }
  const targetKid = kind === 'rotation' ? undefined : targetSelect.value;
  if (kind !== 'rotation' && !targetKid) {
    showError(
      new Error(kind === 'emergency-rotation' ? t('security.new.noActiveKey') : t('security.new.noRetiredKey')),
      { invalid: targetSelect },
    );
    return;
  }
  const reason = reasonInput.value.trim();
  if (reason.length < 3) {
    showError(new Error(t('security.new.reasonShort')), { invalid: reasonInput });
    return;
  }
  if (kind === 'emergency-rotation' && targetKid) {
    if (!(await confirmAction(emergencyText(targetKid, false)))) {
      setStatus(t('security.new.nothing'));
      return;
    }
  }
  await busy(submitButton, form, async () => {
    setStatus(t('security.new.sending'));
    try {
      const answer = await stepUpApi<{ request: KeyRequest | null; result: string | null }>('POST', '/api/security/key-requests', targetKid ? { kind, targetKid, reason } : { kind, reason });
      form.reset();
      updateRequestForm();
      const done = answer.request === null;
      if (await refresh()) {
        setStatus(
          done
            ? t('security.new.doneAlone', { kind: kindWords(kind), result: withPageDates(answer.result ?? '') })
            : t('security.new.requested', { kind: kindWords(kind) }),
        );
      }
      focusElement(byId('requests-heading'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      await refresh();
      showError(err, { form, context: t('security.new.failed') });
    }
  });
}

// -------------------------------------------------------------------- audit

auditButton.addEventListener('click', () => {
  void busy(auditButton, byId('audit-section'), async () => {
    clearMessages();
    setStatus(t('security.audit.verifying'));
    try {
      const report = await api<AuditReport>('GET', '/api/security/audit');
      renderAudit(report);
      setStatus(report.ok ? t('security.audit.verified') : t('security.audit.problemsStatus'));
    } catch (err) {
      if (handleAccessLost(err)) return;
      auditResult.hidden = true;
      showError(err, { context: t('security.audit.failed') });
    }
  });
});

function renderAudit(r: AuditReport): void {
  auditResult.dataset['ok'] = String(r.ok);
  const verdict = el('p', 'audit-verdict', r.ok ? t('security.audit.intact') : t('security.audit.hasProblems'));
  verdict.className = 'audit-verdict';
  const facts = el('ul', 'audit-facts');
  // The keys come from outside the database it checks (NSIS 6 (Low) 7).
  facts.append(el('li', 'audit-anchor', ...tn('security.audit.anchor', { anchor: fromServer(r.anchor.description) })));
  if (r.chain.ok) {
    const head = r.chain.headHash ? [' ', ...tn('security.audit.head', { hash: kidElement(r.chain.headHash) })] : [];
    facts.append(el('li', 'audit-chain', t('security.audit.chainOk', { count: r.chain.entries }), ...head));
  } else {
    const seq = r.chain.firstBrokenSeq ?? '?';
    facts.append(el('li', 'audit-chain', ...(r.chain.problem ? tn('security.audit.chainBrokenWhy', { seq, problem: fromServer(r.chain.problem) }) : tn('security.audit.chainBroken', { seq }))));
  }
  const valid = r.checkpoints.filter((c) => c.ok).length;
  const newest = r.checkpoints.filter((c) => c.ok).at(-1);
  const checkpointItem = el('li', 'audit-checkpoints', t('security.audit.checkpoints', { valid, total: r.checkpoints.length }));
  if (newest) checkpointItem.append(' ', ...tn('security.audit.newest', { seq: newest.seq, date: timeElement(newest.at), kid: kidElement(newest.kid) }));
  facts.append(checkpointItem);
  facts.append(
    el(
      'li',
      'audit-unanchored',
      r.unanchoredEntries === 0 ? t('security.audit.allCovered') : tp('security.audit.unanchored', r.unanchoredEntries),
    ),
  );
  if (r.witness) {
    facts.append(el('li', 'audit-witness', tp('security.audit.witness', r.witness.checkpoints, { matched: r.witness.matched })));
  }
  if (r.truncated) facts.append(el('li', 'audit-truncated', t('security.audit.truncated')));
  for (const note of r.notes) facts.append(el('li', 'audit-note', fromServer(note)));
  const parts: Node[] = [verdict, facts];
  if (r.problems.length > 0) {
    const problems = el('ul', 'audit-problems', ...r.problems.map((p) => el('li', 'audit-problem', fromServer(p))));
    problems.className = 'audit-problems';
    parts.push(el('p', undefined, t('security.audit.problems')), problems);
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
    showSignedOut(t('security.sessionEnded'), t('common.sessionEnded.heading'));
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
    ? t(r.metadata.stale ? 'security.fleet.metadataStale' : 'security.fleet.metadata', { number: r.metadata.number, date: formatDate(r.metadata.nextUpdate) })
    : t('security.fleet.noMetadata');
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
      row.append(el('td', undefined, f.model ?? t('security.fleet.unverifiedModel', { aaguid: f.aaguid })), el('td', undefined, f.certification ?? t('common.none')), el('td', undefined, f.aal ? ialWords(f.aal) : t('common.none')), el('td', undefined, stateWords(f.state)), el('td', undefined, String(f.count)));
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
      showError(err, { context: t('security.fleet.failed') });
    }
  });
});

metadataButton.addEventListener('click', () => {
  void busy(metadataButton, byId('fleet-section'), async () => {
    clearMessages();
    try {
      const r = await api<{ results: { replaced: boolean; code?: string; message?: string }[]; compromisedModels: string[]; reRated: number }>('POST', '/api/security/metadata/reload', {});
      const refused = r.results.filter((x) => !x.replaced);
      const counts = { loaded: r.results.length - refused.length, compromised: r.compromisedModels.length, reRated: r.reRated };
      setStatus(
        refused.length
          ? t('security.fleet.reloadedRefused', { ...counts, refused: refused.length, codes: refused.map((x) => x.code ?? '').join(t('console.listSeparator')) })
          : t('security.fleet.reloaded', counts),
      );
      await showFleet();
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: t('security.fleet.reloadFailed') });
    }
  });
});
