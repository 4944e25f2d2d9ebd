// Administration page (admin.html): add employees (bind them with their identity assurance), issue
// enrolment links, correct contact and identifying data, grant and withdraw roles, end bindings,
// and import employees from CSV.
import { ApiError, api, busy, byId, clearMessages, focusElement, reasonWords, renderHeader, setStatus, showError, timeElement } from './common.js';
import type { Identity } from './common.js';
import {
  GRANTABLE_ROLES,
  IAL_WORDS,
  ROLE_WORDS,
  button,
  confirmAction,
  el,
  fillSelect,
  hidden,
  keysText,
  linkBox,
  reasonOptions,
  renderIdentityRows,
  rolesText,
  setUpConfirmDialog,
  words,
} from './console.js';
import type { BindingState, IdentitySummary } from './console.js';
import { openStaffPage, pageGate } from './console.js';
import { stepUpApi } from './stepUp.js';
import { approvalsList, loadDuties, showTwoPersonBanner } from './duties.js';

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
fillSelect(endReason, reasonOptions(END_REASONS), 'Choose a reason');
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
  kindWords: { 'contact-change': 'Email address change', 'role-grant': 'Staff role' },
  meId: () => me?.id,
  accessLost: (err) => handleAccessLost(err),
  afterDecision: () => refreshDuties(),
});

void load();

async function load(): Promise<void> {
  me = await openStaffPage('org-admin', 'Sign in with your security key to administer employees.', gate, 'Loading…');
  if (!me) return;
  allowed = true;
  byId('console-content').hidden = false;
  await Promise.all([refreshDuties(), approvals.load()]);
  const waiting = approvals.pendingForMe();
  setStatus(
    `Add an employee, find one by name or email address, or import several from CSV.${waiting === 0 ? '' : waiting === 1 ? ' 1 request waits for your approval.' : ` ${waiting} requests wait for your approval.`}`,
  );
}

/** The banner that says when two-person control is off (too few administrators yet). */
async function refreshDuties(): Promise<void> {
  try {
    showTwoPersonBanner(byId('duties-banner'), await loadDuties(), 'admin');
  } catch (err) {
    if (!handleAccessLost(err)) showError(err, { context: 'Whether two-person control is on could not be loaded.' });
  }
}

byId('approvals-refresh').addEventListener('click', () => {
  clearMessages();
  void approvals.load();
});

/** Words for staff roles asked for at creation or in a grant. */
function rolesOutcomeText(outcome: RolesOutcome): string {
  if (!outcome) return '';
  if (outcome.state === 'pending') return ` The staff roles wait until a second administrator approves them (see “Requests waiting for a second person”).`;
  return outcome.bootstrap ? ` The staff roles are granted now: with only one administrator, two-person control for roles is off.` : ' The staff roles are granted.';
}

function countOf(revoked: RevokedKeys): number | null {
  if (Array.isArray(revoked)) return revoked.length;
  if (typeof revoked === 'number') return revoked;
  return null;
}

function revokedText(revoked: RevokedKeys): string {
  const n = countOf(revoked);
  if (n === null) return '';
  return n === 0 ? 'No keys were revoked.' : `${n === 1 ? '1 key was' : `${n} keys were`} revoked.`;
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
  if (!name) return showError(new Error('Enter the person’s full name.'), { invalid: createName });
  if (!email || !createEmail.checkValidity()) return showError(new Error('Enter a valid email address, for example name@example.dk.'), { invalid: createEmail });
  if (!ial) return showError(new Error('Choose the identity assurance level.'), { invalid: createIal });
  if (proofingMethod.length < 3) return showError(new Error('Say how the identity was proofed (at least 3 characters).'), { invalid: createProofing });
  await busy(createSubmit, createForm, async () => {
    setStatus('Adding the employee…');
    let identity: AdminIdentity;
    let rolesOutcome: RolesOutcome = null;
    try {
      ({ identity, roles: rolesOutcome } = await stepUpApi<{ identity: AdminIdentity; roles: RolesOutcome }>('POST', '/api/admin/identities', { name, email, ial, proofingMethod, roles }));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: createForm, context: 'The employee was not added.' });
      return;
    }
    created = identity;
    createForm.reset();
    byId('create-result-text').replaceChildren(
      el('strong', 'created-name', identity.name),
      ` (${identity.email}) is added as an employee, identity assurance ${words(IAL_WORDS, identity.ial).toLowerCase()}.${rolesOutcomeText(rolesOutcome)} `,
      'Next, send an enrolment link so they can register their first security key.',
    );
    byId('create-link').replaceChildren();
    issueButton.textContent = 'Send enrolment link by email';
    if (rolesOutcome) void Promise.all([approvals.load(), refreshDuties()]);
    createResult.dataset['identityId'] = identity.id;
    createResult.hidden = false;
    setStatus(`${identity.name} is added.`);
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
      heading: `Hand the link to ${target.name} in person?`,
      paragraphs: [
        'The link is shown to you once. Give it only to the person, face to face or through a channel you trust.',
        `Your choice is recorded in the audit trail, and ${target.name}’s email address is told that you handed a link over. The activation code still goes only to that address.`,
        ...(into.childElementCount > 0 ? ['Any link issued before stops working.'] : []),
      ],
      confirm: 'Show the link to hand over',
      kind: 'primary',
    });
    if (!ok) return;
  } else if (into.childElementCount > 0) {
    const ok = await confirmAction({
      heading: 'Issue a new enrolment link?',
      paragraphs: [`The link issued before stops working. ${target.name} gets the new one by email.`],
      confirm: 'Issue a new link',
      kind: 'primary',
    });
    if (!ok) return;
  }
  await busy(trigger, null, async () => {
    setStatus('Issuing the enrolment link…');
    let answer: EnrolmentIssued;
    try {
      answer = await stepUpApi<EnrolmentIssued>('POST', `/api/admin/identities/${encodeURIComponent(target.id)}/enrolments`, { delivery });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: 'No enrolment link was issued.' });
      return;
    }
    if (answer.link) {
      const box = linkBox(answer.link, answer.expiresAt, 'enrolment-link', `Enrolment link for ${target.name}`);
      const hint = el('p', undefined, 'Hand the link to the person yourself. It is shown only now.');
      hint.className = 'hint';
      box.append(hint);
      into.replaceChildren(box);
      setStatus(`An enrolment link for ${target.name} is ready to hand over.`);
      box.querySelector<HTMLInputElement>('input')?.focus();
    } else {
      const sent = el('p', 'enrolment-sent', el('strong', undefined, 'Enrolment link sent. '), `It went by email to ${answer.sentTo ?? target.name}. It works once and expires `, timeElement(answer.expiresAt), '.');
      sent.className = 'link-box';
      into.replaceChildren(sent);
      setStatus(`An enrolment link was sent to ${target.name} by email.`);
      focusElement(sent);
    }
    trigger.textContent = delivery === 'mail' ? 'Send a new link by email (withdraws the earlier one)' : 'Hand over a new link (withdraws the earlier one)';
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
  if (!q) return showError(new Error('Enter part of a name or an email address.'), { invalid: searchInput });
  await busy(searchButton, searchForm, async () => {
    setStatus('Searching…');
    if (!(await runSearch(q, true))) return;
    setStatus(results.length === 0 ? `Nobody matches “${q}”.` : results.length === 1 ? '1 person found.' : `${results.length} people found.`);
  });
}

async function runSearch(q: string, report: boolean): Promise<boolean> {
  try {
    ({ identities: results } = await api<{ identities: IdentitySummary[] }>('GET', `/api/admin/identities?q=${encodeURIComponent(q)}`));
  } catch (err) {
    if (handleAccessLost(err)) return false;
    if (report) showError(err, { form: searchForm, context: 'The search failed.' });
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
  personEnrolButton.textContent = 'Send enrolment link by email';
  personHandoverButton.textContent = 'Hand it over in person';
  renderPerson();
  renderResults();
  personSection.hidden = false;
  setStatus(`${i.name} is open.`);
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
    ['Email', p.email, 'person-email'],
    ['Roles', rolesText(p.roles), 'person-roles'],
    ['Identity assurance', words(IAL_WORDS, p.ial), 'person-ial'],
    ['Binding', p.bindingState === 'ended' ? 'Ended' : 'Active', 'person-binding'],
  ];
  if (p.keyCount !== undefined) facts.push(['Keys', `${p.activeKeyCount ?? 0} active of ${p.keyCount}`, 'person-keys']);
  if (p.createdAt) facts.push(['Created', timeElement(p.createdAt), 'person-created']);
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
  if (!email || !contactEmail.checkValidity()) return showError(new Error('Enter a valid email address, for example name@example.dk.'), { invalid: contactEmail });
  if (email === p.email) return showError(new Error('The email address is unchanged.'), { invalid: contactEmail });
  const note = contactNote.value.trim();
  await busy(contactSubmit, contactForm, async () => {
    setStatus('Saving…');
    let answer: { identity: AdminIdentity; revokedKeys?: RevokedKeys; approval?: { id: string } };
    try {
      answer = await stepUpApi<{ identity: AdminIdentity; revokedKeys?: RevokedKeys; approval?: { id: string } }>('PATCH', `/api/admin/identities/${encodeURIComponent(p.id)}`, note ? { email, note } : { email });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: contactForm, context: 'The email address was not changed.' });
      return;
    }
    updatePerson(answer.identity);
    contactNote.value = '';
    if (answer.approval) {
      await approvals.load();
      setStatus(`Asked to change ${answer.identity.name}’s email address to ${email}. It changes when a second staff member approves; ${answer.identity.email} has been told.`);
      return;
    }
    setStatus(`${answer.identity.name}’s email address is now ${answer.identity.email}.`);
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
  if (!name) return showError(new Error('Enter the correct full name.'), { invalid: nameInput });
  if (name === p.name) return showError(new Error('The name is unchanged.'), { invalid: nameInput });
  const note = nameNote.value.trim();
  if (!note) return showError(new Error('Say what was wrong and how the correct name was checked.'), { invalid: nameNote });
  const keys = p.keyCount === undefined ? 'Every key' : p.keyCount === 0 ? 'Any key' : `All ${keysText(p.keyCount)}`;
  const ok = await confirmAction({
    heading: `Correct the name to “${name}”?`,
    paragraphs: [
      `${keys} issued to “${p.name}” are revoked now, with the reason “${reasonWords('data-error')}”. This cannot be undone.`,
      `${name} must then enrol a new security key: issue an enrolment link afterwards.`,
    ],
    confirm: 'Correct name and revoke keys',
  });
  if (!ok) return;
  await busy(nameSubmit, nameForm, async () => {
    setStatus('Saving…');
    let answer: { identity: AdminIdentity; revokedKeys?: RevokedKeys };
    try {
      answer = await stepUpApi<{ identity: AdminIdentity; revokedKeys?: RevokedKeys }>('PATCH', `/api/admin/identities/${encodeURIComponent(p.id)}`, { name, note });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: nameForm, context: 'The name was not changed.' });
      return;
    }
    const n = countOf(answer.revokedKeys);
    updatePerson({ ...answer.identity, ...(n !== null ? { activeKeyCount: 0 } : {}) });
    nameNote.value = '';
    setStatus(`The name is corrected to ${answer.identity.name}. ${revokedText(answer.revokedKeys)} Issue an enrolment link for a new key.`.trim());
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
    setStatus('The roles are unchanged.');
    return;
  }
  const removed = changes.filter((c) => !c.grant).map((c) => words(ROLE_WORDS, c.role));
  if (removed.length > 0) {
    const self = me && p.id === me.id;
    const ok = await confirmAction({
      heading: `Withdraw ${removed.join(' and ')} from ${self ? 'yourself' : p.name}?`,
      paragraphs: [
        `${self ? 'You' : p.name} can no longer use the ${removed.join(' and ')} tools.`,
        ...(self && removed.includes(words(ROLE_WORDS, 'org-admin')) ? ['You withdraw your own administrator role: you lose access to this page.'] : []),
      ],
      confirm: 'Withdraw',
    });
    if (!ok) return;
  }
  await busy(rolesSubmit, rolesForm, async () => {
    setStatus('Saving the roles…');
    const done: string[] = [];
    for (const change of changes) {
      try {
        const { identity, approval } = await stepUpApi<{ identity: AdminIdentity; approval?: { id: string } }>('POST', `/api/admin/identities/${encodeURIComponent(p.id)}/roles`, change);
        updatePerson(identity);
        done.push(`${words(ROLE_WORDS, change.role)} ${approval ? 'asked for: it waits for a second administrator' : change.grant ? 'granted' : 'withdrawn'}`);
      } catch (err) {
        if (handleAccessLost(err)) return;
        const what = `${words(ROLE_WORDS, change.role)} was not ${change.grant ? 'granted' : 'withdrawn'}.`;
        renderPerson();
        showError(err, { context: done.length > 0 ? `${done.join(', ')}; but ${what}` : what });
        return;
      }
    }
    setStatus(`${done.join(', ')}.`);
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
  if (!reason) return showError(new Error('Choose a reason.'), { invalid: endReason });
  const note = endNote.value.trim();
  const keys = p.keyCount === undefined ? 'every key' : p.keyCount === 0 ? 'any key' : `all ${keysText(p.keyCount)}`;
  const ok = await confirmAction({
    heading: `End the binding of ${p.name}?`,
    paragraphs: [
      `Reason: ${reasonWords(reason)}.`,
      `${p.name} is no longer bound to the organisation: ${keys} are revoked, every session ends, and ${p.name} is told by email.`,
      'This cannot be undone. A person who returns must be added again.',
    ],
    confirm: 'End binding and revoke keys',
  });
  if (!ok) return;
  await busy(endSubmit, endForm, async () => {
    setStatus('Ending the binding…');
    let answer: { revokedKeys?: RevokedKeys };
    try {
      answer = await stepUpApi<{ revokedKeys?: RevokedKeys }>(
        'POST',
        `/api/admin/identities/${encodeURIComponent(p.id)}/end-binding`,
        note ? { reason, note } : { reason },
      );
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: endForm, context: 'The binding was not ended.' });
      return;
    }
    updatePerson({ bindingState: 'ended', activeKeyCount: 0 });
    setStatus(`The binding of ${p.name} has ended. ${revokedText(answer.revokedKeys)}`.trim());
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
      showError(new Error('The file is larger than 1 MB. Split it into smaller files.'), { invalid: importFile });
      return;
    }
    try {
      importCsv.value = (await file.text()).replace(/^\uFEFF/, '');
      const lines = importCsv.value.split(/\r?\n/).filter((l) => l.trim()).length;
      setStatus(`“${file.name}” is loaded: ${lines} ${lines === 1 ? 'line' : 'lines'}, including the header. Check it, then press Import.`);
    } catch {
      showError(new Error('The file could not be read.'), { invalid: importFile });
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
  if (!csv.trim()) return showError(new Error('Paste the CSV text, or choose a CSV file.'), { invalid: importCsv });
  const header = csv.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]?.trim().toLowerCase() ?? '';
  if (!/^name,email,ial,proofing_method(,|$)/.test(header.replace(/\s+/g, ''))) {
    return showError(new Error('The first line must be the header line: name,email,ial,proofing_method (and optionally ,roles).'), { invalid: importCsv });
  }
  await busy(importSubmit, importForm, async () => {
    setStatus('Importing…');
    let report: ImportReport;
    try {
      report = await stepUpApi<ImportReport>('POST', '/api/admin/identities/import', { csv });
    } catch (err) {
      if (handleAccessLost(err)) return;
      if (err instanceof ApiError && err.errors.length > 0) {
        renderImportErrors(err);
        showError(new Error(err.message), { context: /nothing was imported/i.test(err.message) ? undefined : 'Nothing was imported.', invalid: importCsv });
      } else {
        importReport.hidden = true;
        showError(err, { form: importForm, context: 'Nothing was imported.' });
      }
      return;
    }
    renderImportReport(report);
    const c = report.created.length;
    const s = report.skipped.length;
    setStatus(`${c === 1 ? '1 employee' : `${c} employees`} added${s > 0 ? `, ${s} skipped` : ''}.`);
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
  const summary = el('p', 'import-summary', `${report.created.length} added, ${report.skipped.length} skipped.`);
  summary.className = 'report-ok';
  parts.push(summary);
  if (report.created.length > 0) {
    const rows = report.created.map((c) => {
      const tr = el('tr', 'import-created-row');
      tr.dataset['identityId'] = c.id;
      const into = el('div');
      const issue = button('Send enrolment link by email', 'import-enrolment-button', 'secondary', hidden(` to ${c.email}`));
      issue.addEventListener('click', () => void issueEnrolment({ id: c.id, name: c.email }, issue, into, 'mail'));
      const linkCell = el('td', undefined, issue, into);
      tr.append(rowHeader(String(c.row)), el('td', undefined, c.email), linkCell);
      return tr;
    });
    parts.push(table('Added', ['Line', 'Email', 'Enrolment link'], rows, 'import-created'));
  }
  const pending = (report.roles ?? []).filter((r) => r.state === 'pending');
  if (pending.length > 0) {
    parts.push(el('p', 'import-roles-pending', `Staff roles for ${pending.map((r) => r.email).join(', ')} wait until a second administrator approves them.`));
    void approvals.load();
  }
  if (report.skipped.length > 0) {
    const rows = report.skipped.map((s) => {
      const tr = el('tr', 'import-skipped-row');
      tr.append(rowHeader(String(s.row)), el('td', undefined, s.email), el('td', undefined, s.reason));
      return tr;
    });
    parts.push(table('Skipped', ['Line', 'Email', 'Why'], rows, 'import-skipped'));
  }
  importReport.replaceChildren(...parts);
  importReport.hidden = false;
}

function renderImportErrors(err: ApiError): void {
  importReport.dataset['ok'] = 'false';
  const summary = el('p', 'import-summary', `Nothing was imported: ${err.errors.length === 1 ? '1 problem' : `${err.errors.length} problems`} in the CSV. Correct them and import again.`);
  summary.className = 'report-bad';
  const rows = err.errors.map((e) => {
    const tr = el('tr', 'import-error-row');
    tr.append(rowHeader(e.path), el('td', undefined, e.message));
    return tr;
  });
  importReport.replaceChildren(summary, table('Problems', ['Where', 'Problem'], rows, 'import-errors'));
  importReport.hidden = false;
}

// ------------------------------------------------------------- access lost

/** 401 (session ended) or 403 ROLE_REQUIRED: say so and hide the administration tools. */
function handleAccessLost(err: unknown): boolean {
  if (!(err instanceof ApiError) || !allowed) return false;
  if (err.status === 401 && err.code !== 'STEP_UP_REQUIRED') {
    allowed = false;
    showSignedOut('Your session has ended. Sign in again to administer employees.', 'Session ended');
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

