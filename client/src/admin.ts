// Administration page (admin.html): add employees (bind them with their identity assurance), issue
// enrolment links, correct contact and identifying data, grant and withdraw roles, end bindings,
// and import employees from CSV. Each concept lives in its module under ./admin/.
import { byId, setStatus, t, tp } from './common.js';
import { renderHeader } from './header.js';
import { openStaffPage, setUpConfirmDialog } from './console.js';
import { setUpProvisioning } from './provisioning.js';
import { ad } from './admin/state.js';
import { gate, handleAccessLost } from './admin/access.js';
import { approvals, refreshDuties } from './admin/duties.js';
import './admin/create.js';
import { openFromList } from './admin/search.js';
import { offerView, setUpLists } from './lists.js';
import { directoryAction } from './admin/directoryRequests.js';
import './admin/person.js';
import './admin/corrections.js';
import './admin/roles.js';
import './admin/endBinding.js';
import './admin/import.js';

renderHeader('admin');
setUpConfirmDialog();

// With SCIM Groups mapped, the lists also offer the roles the directory asks for (issue 18).
const provisioning = setUpProvisioning((err) => handleAccessLost(err), () => offerView('directory'));

void load();

async function load(): Promise<void> {
  ad.me = await openStaffPage('org-admin', t('admin.signedOut.message'), gate, t('common.loading'));
  if (!ad.me) return;
  ad.allowed = true;
  byId('console-content').hidden = false;
  setUpLists({ area: 'admin', intro: 'admin.lists.intro', views: ['people', 'approvals'], openPerson: (id, email) => void openFromList(id, email), accessLost: handleAccessLost, directoryAction });
  await Promise.all([refreshDuties(), approvals.load(), provisioning.load()]);
  const waiting = approvals.pendingForMe();
  setStatus(waiting === 0 ? t('admin.ready') : tp('admin.ready.waiting', waiting));
}
