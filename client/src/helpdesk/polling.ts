// One's own waiting requests: polled until the second person decides; the box then says how.
import { fromServer, t, tn, withPageDates } from '../common.js';
import { el } from '../console.js';
import { summaryNode } from '../duties.js';
import { strong } from './types.js';
import type { Approval } from './types.js';
import { hd, personText } from './state.js';
import { reloadPerson } from './person.js';
import { loadApprovals } from './approvals.js';

/** How often a requester's page asks whether the second approver has decided. */
const APPROVAL_POLL_MS = 5_000;
/** "Waiting for a second approver" boxes on this page: approval id -> the box to update. */
export const waitingBoxes = new Map<string, HTMLElement>();
let pollTimer: number | undefined;

/** Keeps `box` up to date with the decision on the approval: it is polled until decided. */
export function watchApproval(approvalId: string, box: HTMLElement): void {
  for (const [id, b] of waitingBoxes) if (b === box) waitingBoxes.delete(id);
  waitingBoxes.set(approvalId, box);
  box.dataset['approvalId'] = approvalId;
  box.dataset['approvalState'] = 'pending';
  schedulePoll();
}

function schedulePoll(): void {
  if (pollTimer !== undefined || waitingBoxes.size === 0 || !hd.allowed) return;
  pollTimer = window.setTimeout(() => {
    pollTimer = undefined;
    void loadApprovals();
  }, APPROVAL_POLL_MS);
}

// Back on the page (another tab, another window): ask at once.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && waitingBoxes.size > 0 && hd.allowed) void loadApprovals();
});

/** Replaces each decided request's waiting box with the decision; redraws the person's keys. */
export async function settleWaitingBoxes(): Promise<void> {
  let decided = false;
  for (const [id, box] of [...waitingBoxes]) {
    const a = hd.approvals.find((x) => x.id === id);
    if (a?.state === 'pending') continue;
    waitingBoxes.delete(id);
    box.dataset['approvalState'] = a?.state ?? 'unknown';
    box.replaceChildren(el('p', 'approval-decided', ...decisionWords(a)));
    decided = true;
  }
  if (decided && hd.person) await reloadPerson();
  schedulePoll();
}

function decisionWords(a: Approval | undefined): Array<Node | string> {
  if (!a) return [t('helpdesk.decision.gone')];
  const by = personText(a.decidedBy, a.decidedByName);
  if (a.state === 'rejected') return tn('helpdesk.decision.rejected', { strong, by });
  if (a.state === 'failed') return tn('helpdesk.decision.failed', { strong, by, result: fromServer(withPageDates(a.result ?? '')) });
  const done = a.kind === 'replacement' ? t('helpdesk.decision.linkShown', { by }) : summaryNode(a);
  return tn('helpdesk.decision.done', { strong, by, done });
}
