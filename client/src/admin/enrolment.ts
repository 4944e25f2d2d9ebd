// Enrolment links: mailed to the person by default, or handed over in person (shown once).
import { busy, clearMessages, focusElement, setStatus, showError, t, timeElement, tn, wrapIn } from '../common.js';
import { confirmAction, el, linkBox } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import type { EnrolmentIssued } from './types.js';
import { handleAccessLost } from './access.js';

/**
 * Issues an enrolment link for `target`: by default mailed to the person's bound address (NSIS
 * 3.2.2 (Substantial) 2); handing it over in person is an explicit, recorded choice, and only
 * then is the link shown here.
 */
export async function issueEnrolment(target: { id: string; name: string }, trigger: HTMLButtonElement, into: HTMLElement, delivery: 'mail' | 'handover'): Promise<void> {
  clearMessages();
  if (delivery === 'handover') {
    const ok = await confirmAction({
      heading: t('admin.handover.heading', { name: target.name }),
      paragraphs: [
        t('admin.handover.once'),
        t('admin.handover.recorded', { name: target.name }),
        ...(into.childElementCount > 0 ? [t('admin.handover.earlierStops')] : []),
      ],
      confirm: t('admin.handover.confirm'),
      kind: 'primary',
    });
    if (!ok) return;
  } else if (into.childElementCount > 0) {
    const ok = await confirmAction({
      heading: t('admin.newLink.heading'),
      paragraphs: [t('admin.newLink.text', { name: target.name })],
      confirm: t('admin.newLink.confirm'),
      kind: 'primary',
    });
    if (!ok) return;
  }
  await busy(trigger, null, async () => {
    setStatus(t('admin.enrolment.issuing'));
    let answer: EnrolmentIssued;
    try {
      answer = await stepUpApi<EnrolmentIssued>('POST', `/api/admin/identities/${encodeURIComponent(target.id)}/enrolments`, { delivery });
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: t('admin.enrolment.failed') });
      return;
    }
    if (answer.link) {
      const box = linkBox(answer.link, answer.expiresAt, 'enrolment-link', t('admin.enrolment.linkFor', { name: target.name }));
      const hint = el('p', undefined, t('admin.enrolment.handYourself'));
      hint.className = 'hint';
      box.append(hint);
      into.replaceChildren(box);
      setStatus(t('admin.enrolment.ready', { name: target.name }));
      box.querySelector<HTMLInputElement>('input')?.focus();
    } else {
      const sent = el('p', 'enrolment-sent', ...tn('admin.enrolment.sent', { strong: wrapIn('strong'), to: answer.sentTo ?? target.name, date: timeElement(answer.expiresAt) }));
      sent.className = 'link-box';
      into.replaceChildren(sent);
      setStatus(t('admin.enrolment.sentStatus', { name: target.name }));
      focusElement(sent);
    }
    trigger.textContent = delivery === 'mail' ? t('admin.enrolment.newByMail') : t('admin.enrolment.newHandover');
  });
}
