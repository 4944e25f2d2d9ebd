// The admin page's reconciliation with MitID Erhverv (issue 18): the latest run (nightly or on
// demand) with the differences found, the jobs queued to repair them and the differences left
// for a person; a button runs it now (org-admin, step-up). The server decides everything.
import { busy, byId, formatDate, setStatus, t } from './common.js';
import { el } from './console.js';
import { stepUpApi } from './stepUp.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export interface ReconciliationView {
  at: string;
  status: 'done' | 'failed';
  data: { [key: string]: Json };
}

const num = (v: Json | undefined): number => (typeof v === 'number' ? v : 0);
const FINDINGS = ['here-not-there', 'ended-here-still-there', 'suspended-here-only', 'suspended-there-only', 'subject-name-id-mismatch', 'duplicate-subject-name-id', 'link-missing', 'email-differs', 'there-not-here'] as const;
const findingWords = (kind: Json | undefined): string => {
  const k = FINDINGS.find((f) => f === kind);
  return k ? t(`provisioning.idm.finding.${k}`) : String(kind ?? '');
};

export function renderReconciliation(enabled: boolean, hour: number | null, last: ReconciliationView | null): void {
  const button = byId<HTMLButtonElement>('idm-reconcile');
  const text = byId('idm-reconcile-last');
  const list = byId<HTMLUListElement>('idm-reconcile-reported');
  button.hidden = !enabled;
  if (!enabled) {
    text.textContent = t('provisioning.idm.reconcile.off');
    list.hidden = true;
    return;
  }
  const schedule = t('provisioning.idm.reconcile.nightly', { hour: String(hour ?? 0).padStart(2, '0') });
  if (!last) {
    text.textContent = `${schedule} ${t('provisioning.idm.reconcile.never')}`;
    list.hidden = true;
    return;
  }
  const findings = last.data['findings'];
  const found = findings && typeof findings === 'object' && !Array.isArray(findings) ? Object.values(findings).reduce<number>((a, v) => a + num(v), 0) : 0;
  const when = formatDate(last.at);
  const trigger = last.data['trigger'] === 'nightly' ? t('provisioning.idm.reconcile.byNight') : t('provisioning.idm.reconcile.byHand');
  text.textContent =
    last.status === 'failed'
      ? `${schedule} ${t('provisioning.idm.reconcile.failed', { when, trigger, error: String(last.data['error'] ?? '') })}`
      : `${schedule} ${t('provisioning.idm.reconcile.done', { when, trigger, found, queued: num(last.data['jobsQueued']), already: num(last.data['alreadyQueued']), links: num(last.data['linksRecorded']) })}`;
  const reported = Array.isArray(last.data['reported']) ? last.data['reported'] : [];
  list.replaceChildren(
    ...reported.map((r) => {
      const o = r && typeof r === 'object' && !Array.isArray(r) ? r : {};
      return el('li', 'idm-reconcile-item', t('provisioning.idm.reconcile.item', { kind: findingWords(o['kind']), detail: String(o['detail'] ?? '') }));
    }),
  );
  list.hidden = reported.length === 0;
}

/** The "reconcile now" button: step-up, then the page shows the run's outcome. */
export function setUpReconcileButton(load: () => Promise<void>, fail: (err: unknown) => void): void {
  const button = byId<HTMLButtonElement>('idm-reconcile');
  button.addEventListener('click', () => {
    void (async () => {
      try {
        await busy(button, null, () => stepUpApi('POST', '/api/admin/idm/reconcile', {}));
        await load();
        setStatus(t('provisioning.idm.reconcile.ran'));
      } catch (err) {
        fail(err);
      }
    })();
  });
}
