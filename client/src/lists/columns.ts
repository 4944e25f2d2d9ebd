// The columns of each view: heading, the server's sort key (if the column sorts) and how a row
// fills its cell. A person's name is a button that opens the person (the page's hook); the
// directory view's last cell is the administration page's action.
import { reasonWords, stateWords, t, timeElement } from '../common.js';
import { el, roleWords, rolesText } from '../console.js';
import { summaryNode } from '../duties.js';
import type { ApprovalRow, Column, DirectoryRow, KeyRow, ListHooks, PersonRow, Row, View } from './types.js';

const isPerson = (r: Row): r is PersonRow => 'bindingState' in r;
const isKey = (r: Row): r is KeyRow => 'holderName' in r;
const isApproval = (r: Row): r is ApprovalRow => 'kind' in r;
const isDirectory = (r: Row): r is DirectoryRow => 'grantWith' in r;

function small(text: string): HTMLElement {
  const s = el('span', undefined, text);
  s.className = 'list-secondary';
  return s;
}

function modelText(r: KeyRow): string {
  return r.model ?? t('lists.model.unknown', { aaguid: r.aaguid });
}

function levelText(level: string | null): string {
  return level === 'low' || level === 'substantial' || level === 'high' ? t(`ial.${level}`) : t('common.none');
}

function kindText(kind: string): string {
  if (kind === 'bulk' || kind === 'replacement' || kind === 'contact-change') return t(`helpdesk.kind.${kind}`);
  if (kind === 'role-grant') return t('admin.approvals.kind.role-grant');
  return kind.replace(/[_-]+/g, ' ');
}

function stateText(r: KeyRow): string {
  return r.stateReason && r.state !== 'active' ? t('lists.stateWithReason', { state: stateWords(r.state), reason: reasonWords(r.stateReason) }) : stateWords(r.state);
}

/** Every view's columns, with the page's hooks for the person buttons and the directory action. */
export function columnsOf(hooks: Pick<ListHooks, 'openPerson' | 'directoryAction'>): Readonly<Record<View, Column[]>> {
  function personButton(identityId: string, name: string, email: string): HTMLButtonElement {
    const b = el('button', 'list-open-person', name);
    b.type = 'button';
    b.className = 'link-button';
    b.setAttribute('aria-label', t('lists.open', { name }));
    b.addEventListener('click', () => hooks.openPerson(identityId, email));
    return b;
  }

  function holderCell(r: Row): Node {
    if (!isKey(r)) return document.createTextNode('');
    return el('span', undefined, personButton(r.identityId, r.holderName, r.holderEmail), el('br'), small(r.holderEmail));
  }

  return {
    people: [
      { label: 'lists.col.name', sort: 'name', cell: (r) => (isPerson(r) ? personButton(r.id, r.name, r.email) : '') },
      { label: 'lists.col.email', sort: 'email', cell: (r) => (isPerson(r) ? r.email : '') },
      { label: 'lists.col.id', cell: (r) => (isPerson(r) ? el('code', 'list-person-id', r.id) : '') },
      { label: 'lists.col.roles', cell: (r) => (isPerson(r) ? rolesText(r.roles) : '') },
      { label: 'lists.col.binding', cell: (r) => (isPerson(r) ? t(`console.binding.${r.bindingState}`) : '') },
      { label: 'lists.col.keys', sort: 'activeKeyCount', cell: (r) => (isPerson(r) ? t('lists.keys.count', { active: r.activeKeyCount, usable: r.keyCount }) : '') },
      { label: 'lists.col.created', sort: 'createdAt', cell: (r) => (isPerson(r) ? timeElement(r.createdAt) : '') },
    ],
    keys: [
      { label: 'lists.col.holder', sort: 'holder', cell: holderCell },
      { label: 'lists.col.label', sort: 'label', cell: (r) => (isKey(r) ? r.label : '') },
      { label: 'lists.col.model', sort: 'model', cell: (r) => (isKey(r) ? modelText(r) : '') },
      { label: 'lists.col.level', sort: 'aal', cell: (r) => (isKey(r) ? levelText(r.aal) : '') },
      { label: 'lists.col.state', sort: 'state', cell: (r) => (isKey(r) ? stateText(r) : '') },
      { label: 'lists.col.lastUsed', sort: 'lastUsedAt', cell: (r) => (isKey(r) ? timeElement(r.lastUsedAt, t('lists.never')) : '') },
      { label: 'lists.col.expires', sort: 'expiresAt', cell: (r) => (isKey(r) ? timeElement(r.expiresAt, t('lists.noExpiry')) : '') },
    ],
    activations: [
      { label: 'lists.col.holder', sort: 'holder', cell: holderCell },
      { label: 'lists.col.label', sort: 'label', cell: (r) => (isKey(r) ? r.label : '') },
      { label: 'lists.col.model', sort: 'model', cell: (r) => (isKey(r) ? modelText(r) : '') },
      { label: 'lists.col.registered', sort: 'createdAt', cell: (r) => (isKey(r) ? timeElement(r.createdAt) : '') },
    ],
    approvals: [
      { label: 'lists.col.request', sort: 'kind', cell: (r) => (isApproval(r) ? el('span', undefined, el('strong', undefined, kindText(r.kind)), el('br'), summaryNode(r)) : '') },
      { label: 'lists.col.requestedBy', cell: (r) => (isApproval(r) ? (r.requestedByName ?? t('common.none')) : '') },
      { label: 'lists.col.requestedAt', sort: 'requestedAt', cell: (r) => (isApproval(r) ? timeElement(r.requestedAt) : '') },
    ],
    directory: [
      { label: 'lists.col.person', sort: 'name', cell: (r) => (isDirectory(r) ? el('span', undefined, personButton(r.identityId, r.name, r.email), el('br'), small(r.email)) : '') },
      { label: 'lists.col.role', sort: 'role', cell: (r) => (isDirectory(r) ? roleWords(r.role) : '') },
      { label: 'lists.col.groups', cell: (r) => (isDirectory(r) ? r.groups.join(t('console.listSeparator')) : '') },
      { label: 'lists.col.since', sort: 'since', cell: (r) => (isDirectory(r) ? timeElement(r.since, t('lists.directory.sinceUnknown')) : '') },
      { label: 'lists.col.action', cell: (r) => (isDirectory(r) && hooks.directoryAction ? hooks.directoryAction(r) : '') },
    ],
  };
}
