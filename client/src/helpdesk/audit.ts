// The open person's audit trail.
import { api, busy, byId, clearMessages, setStatus, showError, t, timeElement, tn, tp } from '../common.js';
import { el } from '../console.js';
import type { AuditEvent } from './types.js';
import { hd, actorText } from './state.js';
import { auditButton, auditBody } from './elements.js';
import { handleAccessLost } from './access.js';

auditButton.addEventListener('click', () => {
  const p = hd.person;
  if (!p) return;
  void busy(auditButton, byId('audit'), async () => {
    clearMessages();
    setStatus(t('helpdesk.audit.loading'));
    let events: AuditEvent[];
    try {
      ({ events } = await api<{ events: AuditEvent[] }>('GET', `/api/helpdesk/identities/${encodeURIComponent(p.identity.id)}/audit`));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: t('helpdesk.audit.failed') });
      return;
    }
    if (!hd.allowed || hd.person?.identity.id !== p.identity.id) return;
    auditBody.replaceChildren(...events.map(auditRow));
    byId('no-audit').hidden = events.length > 0;
    byId('audit').hidden = false;
    setStatus(tp('helpdesk.audit.count', events.length));
  });
});

function auditRow(e: AuditEvent): HTMLTableRowElement {
  const tr = el('tr', 'audit-row');
  tr.dataset['seq'] = String(e.seq);
  tr.dataset['type'] = e.type;
  const seq = el('th', undefined, String(e.seq));
  seq.scope = 'row';
  const data = el('ul', 'audit-data');
  data.className = 'audit-data';
  for (const [key, value] of Object.entries(e.data ?? {})) {
    if (value === null || value === undefined || value === '') continue;
    data.append(el('li', undefined, ...tn('helpdesk.audit.entry', { key, value: el('code', undefined, typeof value === 'string' ? value : JSON.stringify(value)) })));
  }
  tr.append(seq, el('td', undefined, timeElement(e.at)), el('td', 'audit-type', el('code', undefined, e.type)), el('td', undefined, actorText(e.actorId, e.actorName, e.actorRole)), el('td', undefined, data));
  return tr;
}
