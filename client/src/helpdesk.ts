// Helpdesk page (helpdesk.html): find an employee, see their keys with the state history, suspend,
// start reactivation, revoke (one key or several), issue a replacement key, read the person's
// audit trail, approve or reject other helpdesk members' requests (two-person control), and
// browse lists with filters. Each concept lives in its module under ./helpdesk/.
import { byId, setStatus, t, tp } from './common.js';
import { renderHeader } from './header.js';
import { openStaffPage, setUpConfirmDialog } from './console.js';
import { hd } from './helpdesk/state.js';
import { gate, handleAccessLost } from './helpdesk/access.js';
import { openPerson } from './helpdesk/person.js';
import { updateBulkReasons, updateBulkCount } from './helpdesk/bulk.js';
import { loadApprovals } from './helpdesk/approvals.js';
import { setUpLists } from './lists.js';
import './helpdesk/audit.js';
import './helpdesk/keyActions.js';
import './helpdesk/replacement.js';
import './helpdesk/search.js';

renderHeader('helpdesk');
setUpConfirmDialog();

void load();

async function load(): Promise<void> {
  hd.me = await openStaffPage('helpdesk', t('helpdesk.signedOut.message'), gate, t('common.loading'));
  if (!hd.me) return;
  hd.allowed = true;
  byId('console-content').hidden = false;
  updateBulkReasons();
  updateBulkCount();
  setUpLists({ area: 'helpdesk', intro: 'lists.intro', views: ['people', 'keys', 'activations', 'approvals'], openPerson: (id) => void openPerson(id), accessLost: handleAccessLost });
  if (await loadApprovals()) {
    const waiting = hd.approvals.filter((a) => a.state === 'pending' && a.canApprove === true).length;
    setStatus(waiting === 0 ? t('helpdesk.ready') : tp('helpdesk.ready.waiting', waiting));
  }
}
