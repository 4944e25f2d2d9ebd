// The roles the organisation's directory asks for (issue 18, SCIM Groups mapped to staff roles):
// a row of the administration page's lists (client/src/lists.ts, GET /api/admin/lists/directory)
// carries the one action an org-admin takes. Membership grants nothing (NSIS 5.2 (Substantial) 8;
// 4.1.5 (Substantial) 7): the button asks for the grant with step-up, exactly as the roles form
// does, and the server's duties table decides (a second administrator approves it; with only one
// administrator, the bootstrap rule grants it at once).
import { busy, byId, setStatus, showError, t } from '../common.js';
import { button, el, hidden, roleWords } from '../console.js';
import { tn } from '../i18n.js';
import { reloadList, type DirectoryRow } from '../lists.js';
import { stepUpApi } from '../stepUp.js';
import { handleAccessLost } from './access.js';
import { approvals, refreshDuties } from './duties.js';

export function directoryAction(row: DirectoryRow): Node {
  const role = roleWords(row.role);
  if (row.grantWaiting) return el('span', 'directory-waiting', t('admin.directory.waiting'));
  const ask = button(tn('admin.directory.ask', { role, name: row.name, hidden }), 'directory-ask', 'secondary');
  ask.addEventListener('click', () => void askForGrant(row, ask));
  return ask;
}

async function askForGrant(row: DirectoryRow, ask: HTMLButtonElement): Promise<void> {
  const role = roleWords(row.role);
  const words = { role, name: row.name };
  const done = await busy(ask, byId('lists-results'), async (): Promise<string | undefined> => {
    setStatus(t('admin.directory.asking', words));
    try {
      const { approval } = await stepUpApi<{ approval?: { id: string } }>(row.grantWith.method, row.grantWith.path, row.grantWith.body);
      return approval ? t('admin.directory.asked', words) : t('admin.directory.granted', words);
    } catch (err) {
      if (!handleAccessLost(err)) showError(err, { context: t('admin.directory.failed', words) });
      return undefined;
    }
  });
  if (done === undefined) return;
  // The list, the approvals and the banner as they are now; then say what happened (the list's
  // own count would otherwise be the last word).
  await Promise.all([reloadList(), approvals.load(), refreshDuties()]);
  setStatus(done);
}
