// Granting and withdrawing staff roles of the open person (a grant may wait for a second administrator).
import { busy, clearMessages, setStatus, showError, t } from '../common.js';
import { GRANTABLE_ROLES, confirmAction, roleWords } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import type { AdminIdentity } from './types.js';
import { ad } from './state.js';
import { handleAccessLost } from './access.js';
import { approvals, refreshDuties } from './duties.js';
import { renderPerson, updatePerson } from './person.js';
import { rolesForm, rolesSubmit } from './elements.js';

rolesForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void saveRoles();
});

export async function saveRoles(): Promise<void> {
  clearMessages(rolesForm);
  const p = ad.person;
  if (!p) return;
  const wanted = new Set(Array.from(rolesForm.querySelectorAll<HTMLInputElement>('input[name="role"]:checked')).map((b) => b.value));
  const changes = GRANTABLE_ROLES.filter((r) => wanted.has(r) !== p.roles.includes(r)).map((role) => ({ role, grant: wanted.has(role) }));
  if (changes.length === 0) {
    setStatus(t('admin.roles.unchanged'));
    return;
  }
  const removedCodes = changes.filter((c) => !c.grant).map((c) => c.role);
  if (removedCodes.length > 0) {
    const self = ad.me && p.id === ad.me.id;
    const roles = removedCodes.map((r) => roleWords(r)).join(t('admin.roles.and'));
    const ok = await confirmAction({
      heading: self ? t('admin.roles.withdraw.headingSelf', { roles }) : t('admin.roles.withdraw.heading', { roles, name: p.name }),
      paragraphs: [
        self ? t('admin.roles.withdraw.textSelf', { roles }) : t('admin.roles.withdraw.text', { roles, name: p.name }),
        ...(self && removedCodes.includes('org-admin') ? [t('admin.roles.withdraw.ownAdmin')] : []),
      ],
      confirm: t('admin.roles.withdraw.confirm'),
    });
    if (!ok) return;
  }
  await busy(rolesSubmit, rolesForm, async () => {
    setStatus(t('admin.roles.saving'));
    const done: string[] = [];
    for (const change of changes) {
      try {
        const { identity, approval } = await stepUpApi<{ identity: AdminIdentity; approval?: { id: string } }>('POST', `/api/admin/identities/${encodeURIComponent(p.id)}/roles`, change);
        updatePerson(identity);
        const role = roleWords(change.role);
        done.push(approval ? t('admin.roles.askedFor', { role }) : change.grant ? t('admin.roles.granted', { role }) : t('admin.roles.withdrawn', { role }));
      } catch (err) {
        if (handleAccessLost(err)) return;
        const role = roleWords(change.role);
        const what = change.grant ? t('admin.roles.notGranted', { role }) : t('admin.roles.notWithdrawn', { role });
        renderPerson();
        showError(err, { context: done.length > 0 ? t('admin.roles.partly', { done: done.join(t('console.listSeparator')), what }) : what });
        return;
      }
    }
    setStatus(t('admin.roles.done', { done: done.join(t('console.listSeparator')) }));
    await Promise.all([approvals.load(), refreshDuties()]);
  });
}
