// Separation of duties on the staff pages: the banner that says plainly when two-person control
// is off (too few people hold a role yet), and the pieces every approval list shows: exactly what
// will happen (each person and key by name) and the server's answer to "may I approve this?".
// The rules themselves live on the server (server/duties); the pages only show its answers.
import { api, busy, clearMessages, focusElement, setStatus, showError, timeElement } from './common.js';
import { button, confirmAction, el, hidden } from './console.js';
import { stepUpApi } from './stepUp.js';

export interface ControlStatus {
  action: string;
  title: string;
  approvers: string[];
  pool: number;
  on: boolean;
}

export interface DutiesStatus {
  orgAdmins: number;
  securityOfficers: number;
  helpdesk: number;
  controls: ControlStatus[];
}

/** What the approvals API answers for each request (every list: helpdesk, admin, security). */
export interface ApprovalFields {
  id: string;
  summary: string;
  items?: string[];
  requestedBy: string;
  canApprove?: boolean;
  cannotApprove?: string | null;
  eligibleApprovers?: number | null;
}

export async function loadDuties(): Promise<DutiesStatus> {
  return (await api<{ status: DutiesStatus }>('GET', '/api/duties')).status;
}

/**
 * Fills (or hides) the banner: which two-person controls are off and why. `page` picks the
 * controls that page is about: staff roles on the administration page, signing keys on the
 * security page.
 */
export function showTwoPersonBanner(banner: HTMLElement, status: DutiesStatus, page: 'admin' | 'security'): void {
  const off = (action: string) => status.controls.find((c) => c.action === action && !c.on);
  const parts: Node[] = [];
  if (page === 'admin' && off('role-grant')) {
    parts.push(
      el('h2', 'duties-banner-heading', 'Two-person control is off for staff roles'),
      el(
        'p',
        undefined,
        `This organisation has ${status.orgAdmins === 1 ? 'only one administrator' : 'no second administrator'}. Until there are two, an administrator grants the helpdesk, security officer and administrator roles alone. Each such grant is recorded, and a person you set up can never approve your own requests.`,
      ),
      el('p', undefined, 'Contact-data changes still need a second staff member: there is no exception for them.'),
    );
  }
  if (page === 'security' && off('hsm-key-rotation')) {
    parts.push(
      el('h2', 'duties-banner-heading', 'Two-person control is off for the signing keys'),
      el(
        'p',
        undefined,
        `This organisation has ${status.securityOfficers === 1 ? 'only one security officer' : 'no second security officer'}. Until there are two, a rotation, an emergency rotation or a destruction is carried out at once by the officer who asks. Each is recorded in the audit trail.`,
      ),
    );
  }
  banner.replaceChildren(...parts);
  banner.hidden = parts.length === 0;
}

/** The list of exactly what an approval does, one line per person or key. */
export function itemsList(items: readonly string[] | undefined, testid = 'approval-items'): HTMLUListElement {
  const ul = el('ul', testid, ...(items ?? []).map((i) => el('li', 'approval-item', i)));
  ul.className = 'approval-items';
  return ul;
}

/**
 * Why a pending request shows no Approve button to this person: the server's reason, or for
 * one's own request, whether anyone can approve it yet.
 */
export function notApprovableText(a: ApprovalFields, meId: string | undefined, waiting: string): string {
  if (a.requestedBy === meId) {
    return a.eligibleApprovers === 0 ? `${waiting}. Nobody can approve it yet: everyone who holds the approving role was set up by you, or the request is about them.` : waiting;
  }
  return a.cannotApprove ?? 'You cannot approve this request.';
}

// ------------------------------------------------------------ an approvals list

export interface ApprovalRow extends ApprovalFields {
  kind: string;
  title?: string;
  state: 'pending' | 'executed' | 'rejected' | 'failed' | 'withdrawn';
  requestedByName?: string | null;
  requestedAt: string;
  decidedBy: string | null;
  decidedByName?: string | null;
  decidedAt: string | null;
  result: string | null;
}

const STATE_WORDS: Record<ApprovalRow['state'], string> = {
  pending: 'Waiting for approval',
  executed: 'Approved and carried out',
  rejected: 'Rejected',
  failed: 'Approved, but failed',
  withdrawn: 'Withdrawn',
};

export interface ApprovalsList {
  /** Reloads the list; false if it could not be loaded (the error is shown). */
  load(): Promise<boolean>;
  pendingForMe(): number;
}

/**
 * A table of the requests of some kinds (GET /api/approvals) with Approve and Reject where the
 * server allows them; approving shows exactly what will happen first and asks for step-up.
 */
export function approvalsList(opts: {
  body: HTMLTableSectionElement;
  empty: HTMLElement;
  result: HTMLElement;
  kinds: readonly string[];
  kindWords: Readonly<Record<string, string>>;
  meId: () => string | undefined;
  accessLost: (err: unknown) => boolean;
  afterDecision: () => Promise<void>;
}): ApprovalsList {
  let rows: ApprovalRow[] = [];
  const who = (id: string | null, name: string | null | undefined) => (!id ? '—' : id === opts.meId() ? 'you' : (name ?? `someone else (${id.slice(0, 8)})`));
  const kindText = (a: ApprovalRow) => opts.kindWords[a.kind] ?? a.title ?? a.kind;

  const decide = async (a: ApprovalRow, decision: 'approve' | 'reject', trigger: HTMLButtonElement) => {
    clearMessages();
    opts.result.hidden = true;
    if (decision === 'approve') {
      const ok = await confirmAction({
        heading: `Approve this ${kindText(a).toLowerCase()}?`,
        paragraphs: [`${a.summary}. Exactly this happens:`, ...(a.items ?? []).map((i) => `• ${i}`), `Asked by ${who(a.requestedBy, a.requestedByName)}. It is carried out at once, in their name, and the audit trail names you as the second person.`],
        confirm: 'Approve and carry out',
        kind: 'primary',
      });
      if (!ok) return;
    }
    await busy(trigger, null, async () => {
      try {
        await stepUpApi<{ approval: ApprovalRow }>('POST', `/api/approvals/${encodeURIComponent(a.id)}/${decision}`, {});
      } catch (err) {
        if (opts.accessLost(err)) return;
        await list.load();
        showError(err, { context: decision === 'approve' ? 'The request was not approved.' : 'The request was not rejected.' });
        return;
      }
      await list.load();
      await opts.afterDecision();
      opts.result.replaceChildren(el('p', undefined, el('strong', undefined, decision === 'approve' ? 'Approved and carried out. ' : 'Rejected. Nothing was changed. '), a.summary));
      opts.result.hidden = false;
      setStatus(decision === 'approve' ? 'Approved and carried out.' : 'Rejected. Nothing was changed.');
      focusElement(opts.result);
    });
  };

  const row = (a: ApprovalRow): HTMLTableRowElement => {
    const tr = el('tr', 'approval-row');
    tr.dataset['approvalId'] = a.id;
    tr.dataset['state'] = a.state;
    tr.dataset['kind'] = a.kind;
    const request = el('th', 'approval-summary', el('strong', undefined, kindText(a)), el('br'), a.summary, itemsList(a.items));
    request.scope = 'row';
    const asked = el('td', 'approval-asked', 'By ', who(a.requestedBy, a.requestedByName), el('br'), timeElement(a.requestedAt));
    const decision = el('td', 'approval-decision');
    if (a.decidedBy) decision.append(a.state === 'rejected' ? 'Rejected by ' : 'Approved by ', who(a.decidedBy, a.decidedByName), el('br'), timeElement(a.decidedAt));
    else decision.append('—');
    if (a.result && a.state !== 'rejected') decision.append(el('span', 'approval-result-text', a.result));
    const actions = el('td', 'approval-actions');
    const me = opts.meId();
    if (a.state === 'pending') {
      const wrap = el('div');
      wrap.className = 'actions-cell';
      if (a.canApprove) {
        const approve = button('Approve', 'approve-button', 'primary', hidden(` ${kindText(a).toLowerCase()}: ${a.summary}`));
        approve.addEventListener('click', () => void decide(a, 'approve', approve));
        wrap.append(approve);
      } else {
        const note = el('span', a.requestedBy === me ? 'waiting-note' : 'cannot-approve-note', notApprovableText(a, me, 'Waiting for a second person'));
        note.className = 'waiting-note';
        actions.append(note);
      }
      const reject = button(a.requestedBy === me ? 'Withdraw' : 'Reject', 'reject-button', 'secondary', hidden(` ${kindText(a).toLowerCase()}: ${a.summary}`));
      reject.addEventListener('click', () => void decide(a, 'reject', reject));
      wrap.append(reject);
      actions.append(wrap);
    }
    const state = el('span', 'approval-state-text', STATE_WORDS[a.state]);
    state.className = `state approval-${a.state}`;
    tr.append(request, asked, el('td', 'approval-state', state), decision, actions);
    return tr;
  };

  const list: ApprovalsList = {
    async load() {
      try {
        ({ approvals: rows } = await api<{ approvals: ApprovalRow[] }>('GET', '/api/approvals'));
      } catch (err) {
        if (opts.accessLost(err)) return false;
        showError(err, { context: 'The requests waiting for approval could not be loaded.' });
        return false;
      }
      rows = rows.filter((a) => opts.kinds.includes(a.kind));
      opts.body.replaceChildren(...rows.map(row));
      opts.empty.hidden = rows.length > 0;
      return true;
    },
    pendingForMe: () => rows.filter((a) => a.state === 'pending' && a.canApprove === true).length,
  };
  return list;
}
