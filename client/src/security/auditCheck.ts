/** Verifying the audit trail now against the HSM keys and the witness (GET /api/security/audit). */
import { api, busy, byId, clearMessages, fromServer, setStatus, showError, t, timeElement, tn, tp } from '../common.js';
import { handleAccessLost } from './access.js';
import { el, kidElement } from './dom.js';
import type { AuditReport } from './types.js';

const auditButton = byId<HTMLButtonElement>('audit-verify');
const auditResult = byId('audit-result');

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

export function renderAudit(r: AuditReport): void {
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
