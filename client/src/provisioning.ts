// The administration page's provisioning section (issue 18): the directories (SCIM clients) that
// bind people, their tokens (a new one is shown once), and email changes a directory sent that
// wait for a staff member. The server decides everything; this only shows and asks.
import { ApiError, api, busy, byId, focusElement, formatDate, setStatus, showError, t, tn } from './common.js';
import { fromServer } from './i18n.js';
import { button, confirmAction, el, hidden, ialWords } from './console.js';
import { stepUpApi } from './stepUp.js';
import { type ReconciliationView, renderReconciliation, setUpReconcileButton } from './idmReconcile.js';

interface TokenView {
  tokenId: string;
  createdAt: string;
  notAfter: string | null;
  revokedAt: string | null;
  state: 'valid' | 'expired' | 'revoked';
}
interface ClientView {
  id: string;
  label: string;
  ial: string;
  proofingMethod: string;
  createdAt: string;
  people: number;
  tokens: TokenView[];
}
interface HeldChange {
  identityId: string;
  name: string;
  boundEmail: string;
  directoryEmail: string;
  clientLabel: string;
}
interface IdmJobView {
  id: string;
  kind: 'bind' | 'contact-change' | 'suspend-person' | 'reactivate-person' | 'end-binding';
  state: 'pending' | 'done' | 'failed';
  attempts: number;
  personName: string | null;
  subjectNameId: string | null;
  createdAt: string;
  lastError: string | null;
}
interface Overview {
  scimUrl: string;
  /** SCIM Groups are mapped to staff roles (GATEWAY_SCIM_GROUP_ROLES_FILE): the directory may ask for roles. */
  directoryGroups: boolean;
  clients: ClientView[];
  heldContactChanges: HeldChange[];
  idm: { enabled: boolean; counts: { pending: number; done: number; failed: number }; jobs: IdmJobView[]; reconcileHour: number | null; reconciliation: ReconciliationView | null };
}

/** The MitID Erhverv sync: on or off, and the newest jobs with their state (a failure with its reason). */
function renderIdm(idm: Overview['idm']): void {
  byId('idm-status').textContent = idm.enabled ? t('provisioning.idm.on', idm.counts) : t('provisioning.idm.off');
  const rows = idm.jobs.map((j) => {
    const tr = el('tr', 'idm-job-row');
    const who = el('th', undefined, j.personName ?? '', ...(j.subjectNameId ? [' ', el('code', undefined, j.subjectNameId)] : []));
    who.scope = 'row';
    const state =
      j.state === 'pending' ? t('provisioning.idm.state.pending', { attempts: j.attempts }) : j.state === 'done' ? t('provisioning.idm.state.done') : t('provisioning.idm.state.failed');
    const stateCell = el('td', undefined, state, ...(j.state !== 'done' && j.lastError ? [' ', fromServer(j.lastError)] : []));
    tr.append(who, el('td', undefined, t(`provisioning.idm.kind.${j.kind}`)), stateCell, el('td', undefined, formatDate(j.createdAt)));
    return tr;
  });
  byId('idm-body').replaceChildren(...rows);
  byId('idm-table-wrap').hidden = rows.length === 0;
  renderReconciliation(idm.enabled, idm.reconcileHour, idm.reconciliation);
}
interface IssuedToken {
  token: string;
  tokenId: string;
  notAfter: string | null;
}

/** Set up the section; `accessLost` handles a 401/403 the page must react to. */
export function setUpProvisioning(accessLost: (err: unknown) => boolean, onDirectoryGroups?: () => void): { load(): Promise<void> } {
  const body = byId<HTMLTableSectionElement>('provisioning-body');
  const none = byId('provisioning-none');
  const tokenBox = byId('provisioning-token');
  const held = byId<HTMLUListElement>('provisioning-held');
  const heldNone = byId('provisioning-held-none');
  const form = byId<HTMLFormElement>('provisioning-form');
  const submit = byId<HTMLButtonElement>('provisioning-submit');

  const fail = (err: unknown, context?: string) => {
    if (!accessLost(err)) showError(err, context ? { context } : {});
  };

  const showToken = (issued: IssuedToken, intro: string) => {
    const code = el('code', 'provisioning-token-value', issued.token);
    code.id = 'provisioning-token-value';
    const label = el('p', undefined, t('provisioning.tokenLabel'));
    label.id = 'provisioning-token-label';
    const pre = el('pre', undefined, code);
    pre.className = 'example';
    pre.tabIndex = 0;
    pre.setAttribute('aria-labelledby', 'provisioning-token-label');
    tokenBox.replaceChildren(el('p', undefined, intro), el('p', undefined, t('provisioning.shownOnce')), label, pre);
    tokenBox.hidden = false;
    focusElement(tokenBox);
  };

  const tokenLine = (c: ClientView, tok: TokenView): HTMLLIElement => {
    const words =
      tok.state === 'revoked'
        ? t('provisioning.token.revoked', { id: tok.tokenId })
        : tok.state === 'expired'
          ? t('provisioning.token.expired', { id: tok.tokenId })
          : tok.notAfter
            ? t('provisioning.token.valid', { id: tok.tokenId, date: formatDate(tok.notAfter) })
            : t('provisioning.token.validForever', { id: tok.tokenId });
    const li = el('li', 'provisioning-token-line', words);
    if (tok.state === 'valid') {
      const revoke = button(t('provisioning.revokeToken', { id: tok.tokenId }), 'provisioning-revoke', 'danger');
      revoke.addEventListener('click', () => void revokeToken(c, tok, revoke));
      li.append(' ', revoke);
    }
    return li;
  };

  const row = (c: ClientView): HTMLTableRowElement => {
    const tr = el('tr', 'provisioning-row');
    const name = el('th', undefined, c.label);
    name.scope = 'row';
    const tokens = el('ul', undefined, ...c.tokens.map((tok) => tokenLine(c, tok)));
    tokens.className = 'plain-list';
    const issue = button(tn('provisioning.newToken', { client: c.label, hidden }), 'provisioning-new-token', 'secondary');
    issue.addEventListener('click', () => void newToken(c, issue));
    tr.append(name, el('td', undefined, `${ialWords(c.ial)} – ${c.proofingMethod}`), el('td', undefined, String(c.people)), el('td', undefined, tokens), el('td', undefined, issue));
    return tr;
  };

  async function load(): Promise<void> {
    try {
      const o = await api<Overview>('GET', '/api/admin/provisioning');
      byId('provisioning-url-code').textContent = o.scimUrl;
      if (o.directoryGroups) onDirectoryGroups?.();
      body.replaceChildren(...o.clients.map(row));
      none.hidden = o.clients.length > 0;
      byId('provisioning-table-wrap').hidden = o.clients.length === 0;
      held.replaceChildren(
        ...o.heldContactChanges.map((h) =>
          el('li', 'provisioning-held-item', t('provisioning.held.item', { name: h.name, bound: h.boundEmail, directory: h.directoryEmail, client: h.clientLabel })),
        ),
      );
      heldNone.hidden = o.heldContactChanges.length > 0;
      renderIdm(o.idm);
    } catch (err) {
      fail(err, t('provisioning.loadFailed'));
    }
  }

  async function newToken(c: ClientView, b: HTMLButtonElement): Promise<void> {
    try {
      const r = await busy(b, null, () => stepUpApi<{ token: IssuedToken }>('POST', `/api/admin/provisioning/clients/${c.id}/tokens`, { tokenDays: 365 }));
      await load();
      showToken(r.token, t('provisioning.token.valid', { id: r.token.tokenId, date: formatDate(r.token.notAfter) }));
    } catch (err) {
      fail(err);
    }
  }

  async function revokeToken(c: ClientView, tok: TokenView, b: HTMLButtonElement): Promise<void> {
    const ok = await confirmAction({
      heading: t('provisioning.confirmRevoke.heading'),
      paragraphs: [t('provisioning.confirmRevoke.text', { client: c.label, id: tok.tokenId })],
      confirm: t('provisioning.confirmRevoke.ok'),
    });
    if (!ok) return;
    try {
      await busy(b, null, () => stepUpApi('POST', `/api/admin/provisioning/clients/${c.id}/tokens/${tok.tokenId}/revoke`, {}));
      tokenBox.hidden = true;
      await load();
      setStatus(t('provisioning.revoked', { id: tok.tokenId }));
    } catch (err) {
      fail(err);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      if (!form.reportValidity()) return;
      const data = new FormData(form);
      const label = String(data.get('label') ?? '');
      try {
        const r = await busy(submit, form, () =>
          stepUpApi<{ token: IssuedToken }>('POST', '/api/admin/provisioning/clients', {
            label,
            ial: String(data.get('ial') ?? ''),
            proofingMethod: String(data.get('proofingMethod') ?? ''),
            tokenDays: Number(data.get('tokenDays') ?? 365),
          }),
        );
        form.reset();
        await load();
        showToken(r.token, t('provisioning.registered', { client: label }));
      } catch (err) {
        if (err instanceof ApiError && err.status === 400) showError(err, { form });
        else fail(err);
      }
    })();
  });

  setUpReconcileButton(load, fail);
  return { load };
}
