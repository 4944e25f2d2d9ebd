/**
 * The readable audit trail (issue 16; NSIS 6 (Low) 7): events in words, people and keys by name
 * (their ids in a details control and the title), filtered and paged on the server, exported as
 * CSV or as a signed file with the same filter.
 */
import { api, busy, byId, clearMessages, pageLanguage, setStatus, showError, t, tKey, timeElement, tn } from '../common.js';
import { CATALOGUES, type MessageKey } from '../../../i18n/index.js';
import { handleAccessLost } from './access.js';
import { el } from './dom.js';
import { LookupProblem, resolveRef } from './trailLookup.js';

interface NamedRef {
  id: string;
  kind: 'person' | 'key' | 'other';
  name: string | null;
  detail: string | null;
}

interface TrailEntry {
  seq: number;
  at: string;
  type: string;
  actorRole: string;
  data: Record<string, unknown>;
  hash: string;
  actor: NamedRef | null;
  subject: NamedRef | null;
}

const form = byId<HTMLFormElement>('trail-filter');
const body = byId<HTMLTableSectionElement>('trail-body');
const more = byId<HTMLButtonElement>('trail-more');
const eventSelect = byId<HTMLSelectElement>('trail-event');
const csvLink = byId<HTMLAnchorElement>('trail-csv');
const jsonLink = byId<HTMLAnchorElement>('trail-json');

let next: number | null = null;
let shown = 0;

function isKey(key: string): key is MessageKey {
  return key in CATALOGUES.en;
}

/** The event in words; a kind this page has no words for keeps its code. */
function eventWords(type: string): string {
  const key = `auditEvent.${type}`;
  return isKey(key) ? tKey(key) : type;
}

/**
 * The filter as query parameters (dates as the page's local days: from midnight to the next
 * midnight); a person or key given by name or address is resolved to its id first (trailLookup.ts).
 */
async function filterParams(): Promise<URLSearchParams> {
  const p = new URLSearchParams();
  const value = (id: string) => byId<HTMLInputElement>(id).value.trim();
  const named: string[] = [];
  for (const [param, id, kind] of [['person', 'trail-person', 'person'], ['key', 'trail-key', 'key'], ['actor', 'trail-actor', 'person']] as const) {
    const resolved = await resolveRef(kind, byId<HTMLInputElement>(id));
    if (!resolved) continue;
    p.set(param, resolved.id);
    if (resolved.words) named.push(resolved.words);
  }
  const resolvedNote = byId('trail-resolved');
  resolvedNote.textContent = named.length > 0 ? t('auditTrail.lookup.resolved', { matches: named.join(t('console.listSeparator')) }) : '';
  resolvedNote.hidden = named.length === 0;
  if (eventSelect.value) p.set('event', eventSelect.value);
  const from = value('trail-from');
  const to = value('trail-to');
  if (from) p.set('from', new Date(`${from}T00:00:00`).toISOString());
  if (to) {
    const end = new Date(`${to}T00:00:00`);
    end.setDate(end.getDate() + 1);
    p.set('to', end.toISOString());
  }
  return p;
}

function updateExportLinks(p: URLSearchParams): void {
  const q = new URLSearchParams(p);
  q.set('lang', pageLanguage());
  csvLink.href = `/api/security/audit/export.csv?${q.toString()}`;
  jsonLink.href = `/api/security/audit/export.json?${q.toString()}`;
}

/** A person or key by name; the id on demand (details control, and the title). */
function refCell(ref: NamedRef | null, testid: string): HTMLTableCellElement {
  const td = el('td', testid);
  if (ref === null) {
    td.append(t('auditTrail.system'));
    return td;
  }
  // An id is data, not words: in <code>, as the page's language check and screen readers expect.
  const name: Node[] =
    ref.kind === 'key'
      ? [document.createTextNode(t('auditTrail.keyOf', { key: ref.name ?? ref.id, person: ref.detail ?? '?' }))]
      : ref.name !== null && ref.name !== undefined
        ? [document.createTextNode(ref.name)]
        : tn('auditTrail.unknownId', { id: el('code', undefined, ref.id.slice(0, 8)) });
  const label = el('span', undefined, ...name);
  label.title = ref.id;
  td.append(label);
  if (ref.kind === 'person' && ref.detail) td.append(el('br'), el('span', undefined, ref.detail));
  return td;
}

function row(e: TrailEntry): HTMLTableRowElement {
  const tr = el('tr', 'trail-row');
  tr.dataset['seq'] = String(e.seq);
  tr.dataset['type'] = e.type;
  const event = el('th', 'trail-event', eventWords(e.type));
  event.scope = 'row';
  const details = el('details');
  const ids = [`#${e.seq} ${e.type}`, e.actor ? `${t('auditTrail.col.actorId')}: ${e.actor.id}` : '', e.subject ? `${t('auditTrail.col.subjectId')}: ${e.subject.id}` : '', `${t('auditTrail.col.hash')}: ${e.hash}`].filter(Boolean);
  details.append(el('summary', undefined, t('auditTrail.ids')), el('pre', 'trail-ids', [...ids, JSON.stringify(e.data, null, 1)].join('\n')));
  tr.append(el('td', 'trail-time', timeElement(e.at)), event, refCell(e.actor, 'trail-actor'), refCell(e.subject, 'trail-subject'), el('td', 'trail-details', details));
  return tr;
}

async function load(append: boolean): Promise<void> {
  const p = await filterParams();
  updateExportLinks(p);
  if (append && next !== null) p.set('before', String(next));
  const page = await api<{ entries: TrailEntry[]; next: number | null }>('GET', `/api/security/audit/entries?${p.toString()}`);
  if (!append) {
    body.replaceChildren();
    shown = 0;
  }
  body.append(...page.entries.map(row));
  shown += page.entries.length;
  next = page.next;
  more.hidden = next === null;
  byId('trail-none').hidden = shown > 0;
  byId('trail-table').hidden = shown === 0;
  setStatus(t('auditTrail.shown', { count: shown }));
}

function run(button: HTMLButtonElement, append: boolean): void {
  void busy(button, byId('audit-trail-section'), async () => {
    clearMessages();
    try {
      await load(append);
    } catch (err) {
      if (handleAccessLost(err)) return;
      if (err instanceof LookupProblem) showError(new Error(err.message), { invalid: err.input });
      else showError(err, { form, context: t('auditTrail.heading') });
    }
  });
}

/** Fills the event choices and shows the newest events (called once the officer's page loaded). */
export function startAuditTrail(): void {
  const kinds = Object.keys(CATALOGUES.en)
    .filter((k) => k.startsWith('auditEvent.'))
    .map((k) => k.slice('auditEvent.'.length))
    .sort((a, b) => eventWords(a).localeCompare(eventWords(b), pageLanguage()));
  const any = el('option', undefined, t('auditTrail.filter.event.any'));
  any.value = '';
  eventSelect.replaceChildren(
    any,
    ...kinds.map((k) => {
      const o = el('option', undefined, eventWords(k));
      o.value = k;
      return o;
    }),
  );
  void load(false).catch((err: unknown) => {
    if (!handleAccessLost(err)) showError(err, { context: t('auditTrail.heading') });
  });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  run(byId<HTMLButtonElement>('trail-apply'), false);
});
byId('trail-clear').addEventListener('click', () => {
  form.reset();
  run(byId<HTMLButtonElement>('trail-apply'), false);
});
more.addEventListener('click', () => run(more, true));
