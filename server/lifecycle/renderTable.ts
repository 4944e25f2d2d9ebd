/** Renders the lifecycle table as Markdown for auditors (docs/lifecycle.md). */
import { REASON_LABELS } from '../../i18n/index.js';
import { REASON_CODES } from '../domain/types.js';
import { LIFECYCLE_TABLE } from './table.js';

export function renderLifecycleMarkdown(): string {
  const lines = [
    '# Security-key lifecycle (generated)',
    '',
    'Generated from `server/lifecycle/table.ts` by `npm run docs:lifecycle`; a test fails if this file',
    'and the table drift apart. Anything not in this table is refused with a stable error code',
    '(`LIFECYCLE_TRANSITION_REFUSED`, `LIFECYCLE_ROLE_REFUSED`, `LIFECYCLE_REASON_REFUSED`,',
    '`LIFECYCLE_REACTIVATION_FORBIDDEN`); a transition that loses a race is refused with `LIFECYCLE_CONFLICT`.',
    '',
    '| From | Action | To | Who | Reasons | Evidence | Guards | Effects | Clause |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of LIFECYCLE_TABLE) {
    lines.push(
      `| ${r.from.join(', ')} | ${r.action} | ${r.to} | ${r.roles.join(', ')} | ${r.reasons.join(', ')} | ${r.evidence.join(' + ') || '-'} | ${r.guards.join(', ') || '-'} | ${r.effects.join(', ') || '-'} | ${r.clause} |`,
    );
  }
  lines.push(
    '',
    'Every row is taken by one function (`server/lifecycle/applyTransition.ts`): the guarded state change, the',
    'state-history row, the audit event and the row\'s effects commit together or not at all.',
    '',
    '## Effects',
    '',
    '- **end-sessions**: the sessions established with the key end at once (NSIS 3.2.3 (Low) 1); every relying party of them is told by back channel.',
    '- **withdraw-codes**: the key\'s open activation and reactivation codes are withdrawn.',
    '- **notify-holder**: the holder is mailed what happened, by whom and why; a revocation mail carries a receipt signed by the HSM key.',
    '- **send-code**: a fresh code goes to the holder through the second channel; older codes are withdrawn; staff never see it.',
    '- **alert-helpdesk-on-clone**: when the reason is suspected-clone, every helpdesk member is alerted.',
  );
  lines.push('', '## What each row means', '');
  for (const r of LIFECYCLE_TABLE) lines.push(`- **${r.from.join('/')} → ${r.to} (${r.action}, ${r.roles.join('/')})**: ${r.description}`);
  lines.push(
    '',
    '## Reason codes',
    '',
    'Every page and every mail words a reason the same way (`i18n/reasons.ts`).',
    '',
    '| Code | Words | Accepted for |',
    '| --- | --- | --- |',
  );
  for (const code of REASON_CODES) {
    const actions = [...new Set(LIFECYCLE_TABLE.filter((r) => r.reasons.includes(code)).map((r) => r.action))];
    const accepted = actions.length > 0 ? actions.join(', ') : code === 'registered' ? '- (the history row of a registration)' : '-';
    lines.push(`| ${code} | ${REASON_LABELS.en[code]} | ${accepted} |`);
  }
  lines.push('');
  return lines.join('\n');
}
