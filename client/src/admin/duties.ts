// Two-person control on the administration page: the approvals waiting, and the banner that says
// when two-person control is off.
import { byId, clearMessages, showError, t } from '../common.js';
import { approvalsList, loadDuties, showTwoPersonBanner } from '../duties.js';
import { ad } from './state.js';
import { handleAccessLost } from './access.js';

export const approvals = approvalsList({
  body: byId<HTMLTableSectionElement>('approvals-body'),
  empty: byId('no-approvals'),
  result: byId('approval-result'),
  kinds: ['contact-change', 'role-grant'],
  kindWords: { 'contact-change': t('admin.approvals.kind.contact-change'), 'role-grant': t('admin.approvals.kind.role-grant') },
  meId: () => ad.me?.id,
  accessLost: (err) => handleAccessLost(err),
  afterDecision: () => refreshDuties(),
});

/** The banner that says when two-person control is off (too few administrators yet). */
export async function refreshDuties(): Promise<void> {
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

byId('approvals-refresh').addEventListener('click', () => {
  clearMessages();
  void approvals.load();
});
