// Administration page (admin.html): add employees (bind them with their identity assurance), issue
// enrolment links, correct contact and identifying data, grant and withdraw roles, end bindings,
// and import employees from CSV.
import { ApiError, api, busy, byId, clearMessages, errorText, focusElement, fromServer, pageLanguage, reasonWords, renderHeader, setStatus, showError, t, timeElement, tn, tp, wrapIn } from './common.js';
import type { Identity } from './common.js';
import { GRANTABLE_ROLES, button, confirmAction, el, fillSelect, hidden, ialWords, keysText, linkBox, reasonOptions, renderIdentityRows, roleWords, rolesText, setUpConfirmDialog } from './console.js';
import type { BindingState, IdentitySummary } from './console.js';
import { openStaffPage, pageGate } from './console.js';
import { stepUpApi } from './stepUp.js';
import { approvalsList, loadDuties, showTwoPersonBanner } from './duties.js';
import { setUpProvisioning } from './provisioning.js';

renderHeader('admin');
setUpConfirmDialog();

// ---------------------------------------------------------------- API types

/** An identity as the admin API answers it (POST/PATCH/roles); the search adds key counts. */
interface AdminIdentity {
  id: string;
  name: string;
  email: string;
  roles: string[];
  ial: string;
  bindingState: BindingState;
  createdAt?: string;
  keyCount?: number;
  activeKeyCount?: number;
}

/** An enrolment issued: mailed to the person (the default), or shown once to hand over. */
interface EnrolmentIssued {
  delivery: 'mail' | 'handover';
  link?: string;
  sentTo?: string | null;
  expiresAt: string;
}

/** Staff roles asked for: granted (alone, in bootstrap) or waiting for a second administrator. */
type RolesOutcome = { state: 'granted'; bootstrap: boolean } | { state: 'pending'; approval: { id: string } } | null;

/** `revokedKeys` may be a count or a list of the revoked keys. */
type RevokedKeys = number | unknown[] | null | undefined;

interface ImportReport {
  created: Array<{ row: number; id: string; email: string }>;
  skipped: Array<{ row: number; email: string; reason: string }>;
  roles?: Array<{ row: number; email: string; roles: string[]; state: 'granted' | 'pending' }>;
}

// ---------------------------------------------------------------- elements

const createForm = byId<HTMLFormElement>('create-form');
const createName = byId<HTMLInputElement>('create-name');
const createEmail = byId<HTMLInputElement>('create-email');
const createIal = byId<HTMLSelectElement>('create-ial');
const createProofing = byId<HTMLInputElement>('create-proofing');
const createSubmit = byId<HTMLButtonElement>('create-submit');
const createResult = byId('create-result');
const issueButton = byId<HTMLButtonElement>('issue-enrolment-button');
const handoverButton = byId<HTMLButtonElement>('handover-enrolment-button');
const personHandoverButton = byId<HTMLButtonElement>('person-handover-button');
const searchForm = byId<HTMLFormElement>('search-form');
const searchInput = byId<HTMLInputElement>('search-q');
const searchButton = byId<HTMLButtonElement>('search-button');
const resultsBody = byId<HTMLTableSectionElement>('results-body');
const personSection = byId('person');
const personEnrolButton = byId<HTMLButtonElement>('person-enrolment-button');
const contactForm = byId<HTMLFormElement>('contact-form');
const contactEmail = byId<HTMLInputElement>('contact-email');
const contactNote = byId<HTMLInputElement>('contact-note');
const contactSubmit = byId<HTMLButtonElement>('contact-submit');
const nameForm = byId<HTMLFormElement>('name-form');
const nameInput = byId<HTMLInputElement>('name-name');
const nameNote = byId<HTMLTextAreaElement>('name-note');
const nameSubmit = byId<HTMLButtonElement>('name-submit');
const rolesForm = byId<HTMLFormElement>('roles-form');
const rolesSubmit = byId<HTMLButtonElement>('roles-submit');
const endForm = byId<HTMLFormElement>('end-form');
const endReason = byId<HTMLSelectElement>('end-reason');
/** Why a binding ends (each revokes every key: the lifecycle table's staff revocation reasons). */
const END_REASONS = ['employment-ended', 'agreement-ended', 'holder-ceased', 'data-error', 'other'] as const;
fillSelect(endReason, reasonOptions(END_REASONS), t('admin.endReason.choose'));
const endNote = byId<HTMLInputElement>('end-note');
const endSubmit = byId<HTMLButtonElement>('end-submit');
const importForm = byId<HTMLFormElement>('import-form');
const importFile = byId<HTMLInputElement>('import-file');
const importCsv = byId<HTMLTextAreaElement>('import-csv');
const importSubmit = byId<HTMLButtonElement>('import-submit');
const importReport = byId('import-report');

let me: Identity | null = null;
/** False once the session ended or the role was withdrawn: late answers are then ignored. */
let allowed = false;
let results: IdentitySummary[] = [];
let person: AdminIdentity | null = null;
let created: AdminIdentity | null = null;

// ------------------------------------------------------------------ loading

// Declared before the first load: it runs at once.
const gate = pageGate(() => hideTools(), 'not-allowed');
const showSignedOut = gate.showSignedOut;
const showNotAllowed = gate.showNotAllowed;

const approvals = approvalsList({
  body: byId<HTMLTableSectionElement>('approvals-body'),
  empty: byId('no-approvals'),
  result: byId('approval-result'),
  kinds: ['contact-change', 'role-grant'],
  kindWords: { 'contact-change': t('admin.approvals.kind.contact-change'), 'role-grant': t('admin.approvals.kind.role-grant') },
  meId: () => me?.id,
  accessLost: (err) => handleAccessLost(err),
  afterDecision: () => refreshDuties(),
});

const provisioning = setUpProvisioning((err) => handleAccessLost(err));

void load();

async function load(): Promise<void> {
  me = await openStaffPage('org-admin', t('admin.signedOut.message'), gate, t('common.loading'));
  if (!me) return;
  allowed = true;
  byId('console-content').hidden = false;
  await Promise.all([refreshDuties(), approvals.load(), provisioning.load()]);
  const waiting = approvals.pendingForMe();
  setStatus(waiting === 0 ? t('admin.ready') : tp('admin.ready.waiting', waiting));
}

/** The banner that says when two-person control is off (too few administrators yet). */
async function refreshDuties(): Promise<void> {
  try {
    showTwoPersonBanner(byId('duties-banner'), await loadDuties(), 'admin');
  } catch (err) {
    if (!handleAccessLost(err)) showError(err, { context: t('admin.dutiesFailed') });
  }
}

byId('approvals-refresh').addEventListener('click', () => {
  clearMessages();
  void approvals.load();
});

/** Words for staff roles asked for at creation or in a grant. */
function rolesOutcomeText(outcome: RolesOutcome): string {
  if (!outcome) return '';
  if (outcome.state === 'pending') return t('admin.rolesOutcome.pending');
  return outcome.bootstrap ? t('admin.rolesOutcome.bootstrap') : t('admin.rolesOutcome.granted');
}

function countOf(revoked: RevokedKeys): number | null {
  if (Array.isArray(revoked)) return revoked.length;
  if (typeof revoked === 'number') return revoked;
  return null;
}

function revokedText(revoked: RevokedKeys): string {
  const n = countOf(revoked);
  if (n === null) return '';
  return n === 0 ? t('admin.revoked.none') : tp('admin.revoked', n);
}

// ------------------------------------------------------------------- create

createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void createIdentity();
});

async function createIdentity(): Promise<void> {
  clearMessages(createForm);
  const name = createName.value.trim();
  const email = createEmail.value.trim();
  const ial = createIal.value;
  const proofingMethod = createProofing.value.trim();
  const roles = Array.from(createForm.querySelectorAll<HTMLInputElement>('input[name="roles"]:checked')).map((i) => i.value);
  if (!name) return showError(new Error(t('admin.create.nameMissing')), { invalid: createName });
  if (!email || !createEmail.checkValidity()) return showError(new Error(t('common.invalidEmail')), { invalid: createEmail });
  if (!ial) return showError(new Error(t('admin.create.ialMissing')), { invalid: createIal });
  if (proofingMethod.length < 3) return showError(new Error(t('admin.create.proofingMissing')), { invalid: createProofing });
  await busy(createSubmit, createForm, async () => {
    setStatus(t('admin.create.adding'));
    let identity: AdminIdentity;
    let rolesOutcome: RolesOutcome = null;
    try {
      ({ identity, roles: rolesOutcome } = await stepUpApi<{ identity: AdminIdentity; roles: RolesOutcome }>('POST', '/api/admin/identities', { name, email, ial, proofingMethod, roles }));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: createForm, context: t('admin.create.failed') });
      return;
    }
    created = identity;
    createForm.reset();
    const outcome = rolesOutcomeText(rolesOutcome);
    byId('create-result-text').replaceChildren(
      ...tn('admin.create.done', { name: el('strong', 'created-name', identity.name), email: identity.email, ial: ialWords(identity.ial).toLowerCase() }),
      ` ${outcome}${outcome ? ' ' : ''}${t('admin.create.next')}`,
    );
    byId('create-link').replaceChildren();
    issueButton.textContent = t('admin.enrolment.sendByMail');
    if (rolesOutcome) void Promise.all([approvals.load(), refreshDuties()]);
    createResult.dataset['identityId'] = identity.id;
    createResult.hidden = false;
    setStatus(t('admin.create.added', { name: identity.name }));
    focusElement(createResult);
  });
}

issueButton.addEventListener('click', () => {
  const target = created;
  if (!target) return;
  void issueEnrolment(target, issueButton, byId('create-link'), 'mail');
});

handoverButton.addEventListener('click', () => {
  const target = created;
  if (!target) return;
  void issueEnrolment(target, handoverButton, byId('create-link'), 'handover');
});

/**
 * Issues an enrolment link for `target`: by default mailed to the person's bound address (NSIS
 * 3.2.2 (Substantial) 2); handing it over in person is an explicit, recorded choice, and only
 * then is the link shown here.
 */
async function issueEnrolment(target: { id: string; name: string }, trigger: HTMLButtonElement, into: HTMLElement, delivery: 'mail' | 'handover'): Promise<void> {
  clearMessages();
  if (delivery === 'handover') {
    const ok = await confirmAction({
      heading: t('admin.handover.heading', { name: target.name }),
      paragraphs: [
        t('admin.handover.once'),
        t('admin.handover.recorded', { name: target.name }),
        ...(into.childElementCount > 0 ? [t('admin.handover.earlierStops')] : []),
      ],
      confirm: t('admin.handover.confirm'),
      kind: 'primary',
    });
    if (!ok) return;
  } else if (into.childElementCount > 0) {
    const ok = await confirmAction({
      heading: t('admin.newLink.heading'),
      paragraphs: [t('admin.newLink.text', { name: target.name })],
      confirm: t('admin.newLink.confirm'),
      kind: 'primary',
    });
    if (!ok) return;
  }
  await busy(trigger, null, async () => {
    setStatus(t('admin.enrolment.issuing'));
    let answer: EnrolmentIssued;
    try {
      answer = await stepUpApi<EnrolmentIssued>('POST', `/api/admin/identities/${encodeURIComponent(target.id)}/enrolments`, { delivery });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: t('admin.enrolment.failed') });
      return;
    }
    if (answer.link) {
      const box = linkBox(answer.link, answer.expiresAt, 'enrolment-link', t('admin.enrolment.linkFor', { name: target.name }));
      const hint = el('p', undefined, t('admin.enrolment.handYourself'));
      hint.className = 'hint';
      box.append(hint);
      into.replaceChildren(box);
      setStatus(t('admin.enrolment.ready', { name: target.name }));
      box.querySelector<HTMLInputElement>('input')?.focus();
    } else {
      const sent = el('p', 'enrolment-sent', ...tn('admin.enrolment.sent', { strong: wrapIn('strong'), to: answer.sentTo ?? target.name, date: timeElement(answer.expiresAt) }));
      sent.className = 'link-box';
      into.replaceChildren(sent);
      setStatus(t('admin.enrolment.sentStatus', { name: target.name }));
      focusElement(sent);
    }
    trigger.textContent = delivery === 'mail' ? t('admin.enrolment.newByMail') : t('admin.enrolment.newHandover');
  });
}

// ------------------------------------------------------------------- search

searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void search();
});

async function search(): Promise<void> {
  clearMessages(searchForm);
  const q = searchInput.value.trim();
  if (!q) return showError(new Error(t('console.search.missing')), { invalid: searchInput });
  await busy(searchButton, searchForm, async () => {
    setStatus(t('common.searching'));
    if (!(await runSearch(q, true))) return;
    setStatus(results.length === 0 ? t('console.search.noMatch', { query: q }) : tp('console.search.found', results.length));
  });
}

async function runSearch(q: string, report: boolean): Promise<boolean> {
  try {
    ({ identities: results } = await api<{ identities: IdentitySummary[] }>('GET', `/api/admin/identities?q=${encodeURIComponent(q)}`));
  } catch (err) {
    if (handleAccessLost(err)) return false;
    if (report) showError(err, { form: searchForm, context: t('console.search.failed') });
    return false;
  }
  if (!allowed) return false;
  renderResults();
  byId('results').hidden = false;
  return true;
}

function renderResults(): void {
  renderIdentityRows(resultsBody, results, (i) => openPerson(i), person?.id ?? null);
  byId('no-results').hidden = results.length > 0;
}

// ------------------------------------------------------------------- person

function openPerson(i: IdentitySummary): void {
  clearMessages();
  person = { ...i };
  contactForm.reset();
  nameForm.reset();
  endForm.reset();
  byId('person-link').replaceChildren();
  personEnrolButton.textContent = t('admin.enrolment.sendByMail');
  personHandoverButton.textContent = t('admin.enrol.handover');
  renderPerson();
  renderResults();
  personSection.hidden = false;
  setStatus(t('admin.person.open', { name: i.name }));
  focusElement(byId('person-heading'));
}

/** Takes the server's answer about the open person, and refreshes the search row. */
function updatePerson(update: Partial<AdminIdentity>): void {
  if (!person) return;
  person = { ...person, ...update };
  results = results.map((r) => (r.id === person?.id ? { ...r, ...update } : r));
  renderPerson();
  renderResults();
}

function renderPerson(): void {
  const p = person;
  if (!p) return;
  personSection.dataset['identityId'] = p.id;
  personSection.dataset['bindingState'] = p.bindingState;
  byId('person-name').textContent = p.name;
  const facts: Array<[string, Node | string, string]> = [
    [t('console.fact.email'), p.email, 'person-email'],
    [t('console.fact.roles'), rolesText(p.roles), 'person-roles'],
    [t('console.fact.ial'), ialWords(p.ial), 'person-ial'],
    [t('console.fact.binding'), p.bindingState === 'ended' ? t('console.binding.ended') : t('console.binding.active'), 'person-binding'],
  ];
  if (p.keyCount !== undefined) facts.push([t('console.fact.keys'), t('console.activeOf', { active: p.activeKeyCount ?? 0, total: p.keyCount }), 'person-keys']);
  if (p.createdAt) facts.push([t('console.fact.created'), timeElement(p.createdAt), 'person-created']);
  byId('person-facts').replaceChildren(...facts.flatMap(([term, value, testid]) => [el('dt', undefined, term), el('dd', testid, value)]));
  const ended = p.bindingState === 'ended';
  byId('person-ended-note').hidden = !ended;
  byId('person-tools').hidden = ended;
  if (!contactEmail.matches(':focus')) contactEmail.value = p.email;
  if (!nameInput.matches(':focus')) nameInput.value = p.name;
  rolesForm.querySelectorAll<HTMLInputElement>('input[name="role"]').forEach((box) => {
    box.checked = p.roles.includes(box.value);
  });
}

personEnrolButton.addEventListener('click', () => {
  const p = person;
  if (p) void issueEnrolment(p, personEnrolButton, byId('person-link'), 'mail');
});

personHandoverButton.addEventListener('click', () => {
  const p = person;
  if (p) void issueEnrolment(p, personHandoverButton, byId('person-link'), 'handover');
});

// ----------------------------------------------------------- contact data

contactForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void saveContact();
});

async function saveContact(): Promise<void> {
  clearMessages(contactForm);
  const p = person;
  if (!p) return;
  const email = contactEmail.value.trim();
  if (!email || !contactEmail.checkValidity()) return showError(new Error(t('common.invalidEmail')), { invalid: contactEmail });
  if (email === p.email) return showError(new Error(t('admin.contact.unchanged')), { invalid: contactEmail });
  const note = contactNote.value.trim();
  await busy(contactSubmit, contactForm, async () => {
    setStatus(t('common.saving'));
    let answer: { identity: AdminIdentity; revokedKeys?: RevokedKeys; approval?: { id: string } };
    try {
      answer = await stepUpApi<{ identity: AdminIdentity; revokedKeys?: RevokedKeys; approval?: { id: string } }>('PATCH', `/api/admin/identities/${encodeURIComponent(p.id)}`, note ? { email, note } : { email });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: contactForm, context: t('admin.contact.failed') });
      return;
    }
    updatePerson(answer.identity);
    contactNote.value = '';
    if (answer.approval) {
      await approvals.load();
      setStatus(t('admin.contact.asked', { name: answer.identity.name, email, current: answer.identity.email }));
      return;
    }
    setStatus(t('admin.contact.done', { name: answer.identity.name, email: answer.identity.email }));
  });
}

// ------------------------------------------------------- identifying data

nameForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void correctName();
});

async function correctName(): Promise<void> {
  clearMessages(nameForm);
  const p = person;
  if (!p) return;
  const name = nameInput.value.trim();
  if (!name) return showError(new Error(t('admin.name.missing')), { invalid: nameInput });
  if (name === p.name) return showError(new Error(t('admin.name.unchanged')), { invalid: nameInput });
  const note = nameNote.value.trim();
  if (!note) return showError(new Error(t('admin.name.noteMissing')), { invalid: nameNote });
  const keys = p.keyCount === undefined ? t('admin.name.keys.every') : p.keyCount === 0 ? t('admin.name.keys.any') : t('admin.name.keys.all', { keys: keysText(p.keyCount) });
  const ok = await confirmAction({
    heading: t('admin.name.confirm.heading', { name }),
    paragraphs: [t('admin.name.confirm.revoked', { keys, old: p.name, reason: reasonWords('data-error') }), t('admin.name.confirm.enrol', { name })],
    confirm: t('admin.name.confirm.button'),
  });
  if (!ok) return;
  await busy(nameSubmit, nameForm, async () => {
    setStatus(t('common.saving'));
    let answer: { identity: AdminIdentity; revokedKeys?: RevokedKeys };
    try {
      answer = await stepUpApi<{ identity: AdminIdentity; revokedKeys?: RevokedKeys }>('PATCH', `/api/admin/identities/${encodeURIComponent(p.id)}`, { name, note });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: nameForm, context: t('admin.name.failed') });
      return;
    }
    const n = countOf(answer.revokedKeys);
    updatePerson({ ...answer.identity, ...(n !== null ? { activeKeyCount: 0 } : {}) });
    nameNote.value = '';
    setStatus(t('admin.name.done', { name: answer.identity.name, revoked: revokedText(answer.revokedKeys) }).replace(/\s+/g, ' ').trim());
    focusElement(byId('enrol-heading'));
  });
}

// -------------------------------------------------------------------- roles

rolesForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void saveRoles();
});

async function saveRoles(): Promise<void> {
  clearMessages(rolesForm);
  const p = person;
  if (!p) return;
  const wanted = new Set(Array.from(rolesForm.querySelectorAll<HTMLInputElement>('input[name="role"]:checked')).map((b) => b.value));
  const changes = GRANTABLE_ROLES.filter((r) => wanted.has(r) !== p.roles.includes(r)).map((role) => ({ role, grant: wanted.has(role) }));
  if (changes.length === 0) {
    setStatus(t('admin.roles.unchanged'));
    return;
  }
  const removedCodes = changes.filter((c) => !c.grant).map((c) => c.role);
  if (removedCodes.length > 0) {
    const self = me && p.id === me.id;
    const roles = removedCodes.map((r) => roleWords(r)).join(t('admin.roles.and'));
    const ok = await confirmAction({
      heading: self ? t('admin.roles.withdraw.headingSelf', { roles }) : t('admin.roles.withdraw.heading', { roles, name: p.name }),
      paragraphs: [
        self ? t('admin.roles.withdraw.textSelf', { roles }) : t('admin.roles.withdraw.text', { roles, name: p.name }),
        ...(self && removedCodes.includes('org-admin') ? [t('admin.roles.withdraw.ownAdmin')] : []),
      ],
      confirm: t('admin.roles.withdraw.confirm'),
    });
    if (!ok) return;
  }
  await busy(rolesSubmit, rolesForm, async () => {
    setStatus(t('admin.roles.saving'));
    const done: string[] = [];
    for (const change of changes) {
      try {
        const { identity, approval } = await stepUpApi<{ identity: AdminIdentity; approval?: { id: string } }>('POST', `/api/admin/identities/${encodeURIComponent(p.id)}/roles`, change);
        updatePerson(identity);
        const role = roleWords(change.role);
        done.push(approval ? t('admin.roles.askedFor', { role }) : change.grant ? t('admin.roles.granted', { role }) : t('admin.roles.withdrawn', { role }));
      } catch (err) {
        if (handleAccessLost(err)) return;
        const role = roleWords(change.role);
        const what = change.grant ? t('admin.roles.notGranted', { role }) : t('admin.roles.notWithdrawn', { role });
        renderPerson();
        showError(err, { context: done.length > 0 ? t('admin.roles.partly', { done: done.join(t('console.listSeparator')), what }) : what });
        return;
      }
    }
    setStatus(t('admin.roles.done', { done: done.join(t('console.listSeparator')) }));
    await Promise.all([approvals.load(), refreshDuties()]);
  });
}

// -------------------------------------------------------------- end binding

endForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void endBinding();
});

async function endBinding(): Promise<void> {
  clearMessages(endForm);
  const p = person;
  if (!p) return;
  const reason = endReason.value;
  if (!reason) return showError(new Error(t('admin.end.reasonMissing')), { invalid: endReason });
  const note = endNote.value.trim();
  const keys = p.keyCount === undefined ? t('admin.end.keys.every') : p.keyCount === 0 ? t('admin.end.keys.any') : t('admin.end.keys.all', { keys: keysText(p.keyCount) });
  const ok = await confirmAction({
    heading: t('admin.end.confirm.heading', { name: p.name }),
    paragraphs: [t('admin.end.confirm.reason', { reason: reasonWords(reason) }), t('admin.end.confirm.effect', { name: p.name, keys }), t('admin.end.confirm.final')],
    confirm: t('admin.end.confirm.button'),
  });
  if (!ok) return;
  await busy(endSubmit, endForm, async () => {
    setStatus(t('admin.end.ending'));
    let answer: { revokedKeys?: RevokedKeys };
    try {
      answer = await stepUpApi<{ revokedKeys?: RevokedKeys }>(
        'POST',
        `/api/admin/identities/${encodeURIComponent(p.id)}/end-binding`,
        note ? { reason, note } : { reason },
      );
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: endForm, context: t('admin.end.failed') });
      return;
    }
    updatePerson({ bindingState: 'ended', activeKeyCount: 0 });
    setStatus(t('admin.end.done', { name: p.name, revoked: revokedText(answer.revokedKeys) }).trim());
    focusElement(byId('person-heading'));
  });
}

// ------------------------------------------------------------------- import

importFile.addEventListener('change', () => {
  const file = importFile.files?.[0];
  if (!file) return;
  clearMessages(importForm);
  void (async () => {
    if (file.size > 1_000_000) {
      showError(new Error(t('admin.import.tooLarge')), { invalid: importFile });
      return;
    }
    try {
      importCsv.value = (await file.text()).replace(/^\uFEFF/, '');
      const lines = importCsv.value.split(/\r?\n/).filter((l) => l.trim()).length;
      setStatus(tp('admin.import.loaded', lines, { file: file.name }));
    } catch {
      showError(new Error(t('admin.import.unreadable')), { invalid: importFile });
    }
  })();
});

importForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void importIdentities();
});

async function importIdentities(): Promise<void> {
  clearMessages(importForm);
  const csv = importCsv.value;
  if (!csv.trim()) return showError(new Error(t('admin.import.missing')), { invalid: importCsv });
  const header = csv.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]?.trim().toLowerCase() ?? '';
  if (!/^name,email,ial,proofing_method(,|$)/.test(header.replace(/\s+/g, ''))) {
    return showError(new Error(t('admin.import.badHeader')), { invalid: importCsv });
  }
  await busy(importSubmit, importForm, async () => {
    setStatus(t('admin.import.importing'));
    let report: ImportReport;
    try {
      report = await stepUpApi<ImportReport>('POST', '/api/admin/identities/import', { csv });
    } catch (err) {
      if (handleAccessLost(err)) return;
      if (err instanceof ApiError && err.errors.length > 0) {
        renderImportErrors(err);
        // The problems are listed in the report: the error line says only that nothing was imported.
        const saysSo = pageLanguage() === 'en' && /nothing was imported/i.test(err.message);
        showError(new Error(errorText(err)), { context: saysSo ? undefined : t('admin.import.nothing'), invalid: importCsv });
      } else {
        importReport.hidden = true;
        showError(err, { form: importForm, context: t('admin.import.nothing') });
      }
      return;
    }
    renderImportReport(report);
    const c = report.created.length;
    const s = report.skipped.length;
    setStatus(s > 0 ? tp('admin.import.addedSkipped', c, { skipped: s }) : tp('admin.import.added', c));
    if (c > 0) importCsv.value = '';
    importFile.value = '';
    focusElement(importReport);
  });
}

function table(caption: string, headings: string[], rows: HTMLTableRowElement[], testid: string): HTMLDivElement {
  const t = el('table', testid);
  const cap = el('caption', undefined, caption);
  const head = el('tr', undefined, ...headings.map((h) => {
    const th = el('th', undefined, h);
    th.scope = 'col';
    return th;
  }));
  t.append(cap, el('thead', undefined, head), el('tbody', undefined, ...rows));
  const wrap = el('div', undefined, t);
  wrap.className = 'table-wrap';
  return wrap;
}

function rowHeader(text: string): HTMLTableCellElement {
  const th = el('th', undefined, text);
  th.scope = 'row';
  return th;
}

function renderImportReport(report: ImportReport): void {
  importReport.dataset['ok'] = 'true';
  const parts: Node[] = [];
  const summary = el('p', 'import-summary', t('admin.import.summary', { added: report.created.length, skipped: report.skipped.length }));
  summary.className = 'report-ok';
  parts.push(summary);
  if (report.created.length > 0) {
    const rows = report.created.map((c) => {
      const tr = el('tr', 'import-created-row');
      tr.dataset['identityId'] = c.id;
      const into = el('div');
      const issue = button(tn('admin.import.sendTo', { email: c.email, hidden }), 'import-enrolment-button', 'secondary');
      issue.addEventListener('click', () => void issueEnrolment({ id: c.id, name: c.email }, issue, into, 'mail'));
      const linkCell = el('td', undefined, issue, into);
      tr.append(rowHeader(String(c.row)), el('td', undefined, c.email), linkCell);
      return tr;
    });
    parts.push(table(t('admin.import.caption.added'), [t('admin.import.col.line'), t('admin.import.col.email'), t('admin.import.col.link')], rows, 'import-created'));
  }
  const pending = (report.roles ?? []).filter((r) => r.state === 'pending');
  if (pending.length > 0) {
    parts.push(el('p', 'import-roles-pending', t('admin.import.rolesPending', { emails: pending.map((r) => r.email).join(t('console.listSeparator')) })));
    void approvals.load();
  }
  if (report.skipped.length > 0) {
    const rows = report.skipped.map((s) => {
      const tr = el('tr', 'import-skipped-row');
      tr.append(rowHeader(String(s.row)), el('td', undefined, s.email), el('td', undefined, fromServer(s.reason)));
      return tr;
    });
    parts.push(table(t('admin.import.caption.skipped'), [t('admin.import.col.line'), t('admin.import.col.email'), t('admin.import.col.why')], rows, 'import-skipped'));
  }
  importReport.replaceChildren(...parts);
  importReport.hidden = false;
}

function renderImportErrors(err: ApiError): void {
  importReport.dataset['ok'] = 'false';
  const summary = el('p', 'import-summary', tp('admin.import.problems', err.errors.length));
  summary.className = 'report-bad';
  const rows = err.errors.map((e) => {
    const tr = el('tr', 'import-error-row');
    tr.append(rowHeader(e.path), el('td', undefined, fromServer(e.message)));
    return tr;
  });
  importReport.replaceChildren(summary, table(t('admin.import.caption.problems'), [t('admin.import.col.where'), t('admin.import.col.problem')], rows, 'import-errors'));
  importReport.hidden = false;
}

// ------------------------------------------------------------- access lost

/** 401 (session ended) or 403 ROLE_REQUIRED: say so and hide the administration tools. */
function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    allowed = false;
    showSignedOut(t('admin.sessionEnded'), t('common.sessionEnded.heading'));
    return true;
  }
  if (err.status === 403 && err.code === 'ROLE_REQUIRED') {
    allowed = false;
    showNotAllowed(true);
    return true;
  }
  return false;
}

function hideTools(): void {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  if (dialog.open) dialog.close('');
  byId('console-content').hidden = true;
  resultsBody.replaceChildren();
  byId('create-link').replaceChildren();
  byId('person-link').replaceChildren();
  person = null;
  created = null;
}

