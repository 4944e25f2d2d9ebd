/** Renders the duties table as Markdown for auditors (docs/duties.md). */
import { DUTY_TABLE, type DutyRow, type Recipient } from './table.js';

const RECIPIENT_WORDS: Readonly<Record<Recipient, string>> = {
  subject: 'the person (bound address)',
  'subject-old-address': 'the person’s old address',
  'org-admins': 'every other org-admin',
  'security-officers': 'every other security officer',
  helpdesk: 'every other helpdesk member',
  'key-holders': 'each key’s holder',
};

function approvalText(r: DutyRow): string {
  switch (r.approval) {
    case 'never':
      return 'no';
    case 'always':
      return `yes: ${r.approvers.join(' or ')}`;
    case 'above-bulk-threshold':
      return `above GATEWAY_BULK_APPROVAL_THRESHOLD keys: ${r.approvers.join(' or ')}`;
    case 'without-active-key':
      return `when the person holds no other active key: ${r.approvers.join(' or ')}`;
  }
}

function bootstrapText(r: DutyRow): string {
  if (r.approval === 'never') return '-';
  return r.bootstrap === 'alone' ? `alone while fewer than two ${r.approvers.map((a) => `${a}s`).join('/')}` : 'waits (no exception)';
}

function recipients(list: readonly Recipient[]): string {
  return list.length === 0 ? '-' : list.map((r) => RECIPIENT_WORDS[r]).join(', ');
}

export function renderDutiesMarkdown(): string {
  const lines = [
    '# Separation of duties (generated)',
    '',
    'Generated from `server/duties/table.ts` by `npm run docs:duties`; a test fails if this file and',
    'the table drift apart. The code asks this table: who may ask for an action, whether a second',
    'person must approve it, and who is told. Every approval, in every row, checks by identity that',
    'the approver is not the requester, not a person the request is about, and not a person the',
    'requester created or changed (identity, roles or contact data: the "fake second person"); the',
    'requester must still hold the role asked in when it is carried out, and losing that role',
    'withdraws their pending requests. A refused approval is audited (`approval.refused`) and',
    'answered 403 `SEGREGATION_OF_DUTIES`; a withdrawn one 409 `APPROVAL_WITHDRAWN`. Everyone who',
    'may approve a waiting request by these checks is mailed that it waits (`approval-waiting`, with',
    'the address of the approvals inbox, `/approvals.html`) in the commit that records it; the',
    '"told on request" column names who else is told.',
    '',
    '**Bootstrap.** A new organisation has one administrator. While fewer than two people hold a',
    'row’s approver role, the rows marked "alone" let the one requester act alone (audited as',
    '`duty.bootstrap`), and the administration and security pages say plainly that two-person',
    'control is off and why. Rows marked "waits" have no exception. A person set up by someone in',
    'bootstrap can never approve that someone’s requests.',
    '',
    '| Action | Who asks | Second person | Bootstrap | Told on request | Told when done | Checks | Clause |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of DUTY_TABLE) {
    lines.push(
      `| ${r.action} | ${r.requesters.join(', ')} | ${approvalText(r)} | ${bootstrapText(r)} | ${recipients(r.notify.onRequest)} | ${recipients(r.notify.onExecution)} | ${r.checks.join(', ')} | ${r.clause} |`,
    );
  }
  lines.push('', '## What each row means', '');
  for (const r of DUTY_TABLE) lines.push(`- **${r.action}: ${r.title}.** ${r.effects}`);
  lines.push('');
  return lines.join('\n');
}
