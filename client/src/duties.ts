// Separation of duties on the staff pages: the banner that says plainly when two-person control
// is off (too few people hold a role yet), and the pieces every approval list shows: exactly what
// will happen (each person and key by name) and the server's answer to "may I approve this?".
// The rules themselves live on the server (server/duties); the pages only show its answers.
import { api, busy, clearMessages, focusElement, fromServer, pageLanguage, setStatus, showError, t, timeElement, tn, wrapIn } from './common.js';
import { button, confirmAction, el } from './console.js';
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
  /** The language `summary` is in: the page's where the server renders this kind, else English. */
  summaryLanguage?: string;
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
      el('h2', 'duties-banner-heading', t('duties.banner.roles.heading')),
      el('p', undefined, status.orgAdmins === 1 ? t('duties.banner.roles.onlyOne') : t('duties.banner.roles.none')),
      el('p', undefined, t('duties.banner.roles.contact')),
    );
  }
  if (page === 'security' && off('hsm-key-rotation')) {
    parts.push(
      el('h2', 'duties-banner-heading', t('duties.banner.keys.heading')),
      el('p', undefined, status.securityOfficers === 1 ? t('duties.banner.keys.onlyOne') : t('duties.banner.keys.none')),
    );
  }
  banner.replaceChildren(...parts);
  banner.hidden = parts.length === 0;
}

/** The list of exactly what an approval does, one line per person or key (the server's words). */
export function itemsList(items: readonly string[] | undefined, testid = 'approval-items'): HTMLUListElement {
  const ul = el('ul', testid, ...(items ?? []).map((i) => el('li', 'approval-item', fromServer(i))));
  ul.className = 'approval-items';
  return ul;
}

/**
 * Why a pending request shows no Approve button to this person: the server's reason, or for
 * one's own request, whether anyone can approve it yet.
 */
export function notApprovableText(a: ApprovalFields, meId: string | undefined, waiting: string): string {
  if (a.requestedBy === meId) {
    return a.eligibleApprovers === 0 ? t('duties.nobodyCanApprove', { waiting }) : waiting;
  }
  // The server's reason is English; a page in another language says it in its own words.
  return a.cannotApprove && pageLanguage() === 'en' ? a.cannotApprove : t('duties.cannotApprove');
}

// ------------------------------------------------------------ an approvals list

/** A request's summary as the server wrote it, marked with the language it is in (the page's where the server rendered it). */
export function summaryNode(a: Pick<ApprovalFields, 'summary' | 'summaryLanguage'>): Node {
  const node = fromServer(a.summary);
  if (a.summaryLanguage && node instanceof HTMLElement) node.lang = a.summaryLanguage;
  return node;
}

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

/** Words only screen readers read (a <hidden> tag). */
const hidden = wrapIn('span', (s) => (s.className = 'visually-hidden'));
const strong = wrapIn('strong');

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
  const who = (id: string | null, name: string | null | undefined) => (!id ? t('common.none') : id === opts.meId() ? t('common.you') : (name ?? t('duties.someoneElse', { id: id.slice(0, 8) })));
  const kindText = (a: ApprovalRow) => opts.kindWords[a.kind] ?? a.title ?? a.kind;

  const decide = async (a: ApprovalRow, decision: 'approve' | 'reject', trigger: HTMLButtonElement) => {
    clearMessages();
    opts.result.hidden = true;
    if (decision === 'approve') {
      const ok = await confirmAction({
        heading: t('duties.approve.heading', { kind: kindText(a).toLowerCase() }),
        paragraphs: [
          t('duties.approve.exactly', { summary: a.summary }),
          ...(a.items ?? []).map((item) => t('duties.approve.item', { item })),
          t('duties.approve.askedBy', { who: who(a.requestedBy, a.requestedByName) }),
        ],
        confirm: t('duties.approve.confirm'),
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
        showError(err, { context: decision === 'approve' ? t('duties.approve.failed') : t('duties.reject.failed') });
        return;
      }
      await list.load();
      await opts.afterDecision();
      const summary = summaryNode(a);
      opts.result.replaceChildren(el('p', undefined, ...(decision === 'approve' ? tn('duties.approvedLead', { strong, summary }) : tn('duties.rejectedLead', { strong, summary }))));
      opts.result.hidden = false;
      setStatus(decision === 'approve' ? t('duties.approved') : t('duties.rejected'));
      focusElement(opts.result);
    });
  };

  const row = (a: ApprovalRow): HTMLTableRowElement => {
    const tr = el('tr', 'approval-row');
    tr.dataset['approvalId'] = a.id;
    tr.dataset['state'] = a.state;
    tr.dataset['kind'] = a.kind;
    const request = el('th', 'approval-summary', el('strong', undefined, kindText(a)), el('br'), summaryNode(a), itemsList(a.items));
    request.scope = 'row';
    const asked = el('td', 'approval-asked', t('duties.by', { who: who(a.requestedBy, a.requestedByName) }), el('br'), timeElement(a.requestedAt));
    const decision = el('td', 'approval-decision');
    if (a.decidedBy) {
      const by = who(a.decidedBy, a.decidedByName);
      decision.append(a.state === 'rejected' ? t('duties.rejectedBy', { who: by }) : t('duties.approvedBy', { who: by }), el('br'), timeElement(a.decidedAt));
    } else decision.append(t('common.none'));
    if (a.result && a.state !== 'rejected') decision.append(el('br'), el('span', 'approval-result-text', fromServer(a.result)));
    const actions = el('td', 'approval-actions');
    const me = opts.meId();
    if (a.state === 'pending') {
      const wrap = el('div');
      wrap.className = 'actions-cell';
      if (a.canApprove) {
        const approve = button(tn('duties.approve', { kind: kindText(a).toLowerCase(), summary: fromServer(a.summary), hidden }), 'approve-button', 'primary');
        approve.addEventListener('click', () => void decide(a, 'approve', approve));
        wrap.append(approve);
      } else {
        const note = el('span', a.requestedBy === me ? 'waiting-note' : 'cannot-approve-note', notApprovableText(a, me, t('duties.waitingForSecond')));
        note.className = 'waiting-note';
        actions.append(note);
      }
      const what = { kind: kindText(a).toLowerCase(), summary: fromServer(a.summary), hidden };
      const reject = button(a.requestedBy === me ? tn('duties.withdraw', what) : tn('duties.reject', what), 'reject-button', 'secondary');
      reject.addEventListener('click', () => void decide(a, 'reject', reject));
      wrap.append(reject);
      actions.append(wrap);
    }
    const state = el('span', 'approval-state-text', t(`duties.state.${a.state}`));
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
        showError(err, { context: t('duties.loadFailed') });
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
