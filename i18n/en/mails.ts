/**
 * The mails the gateway sends (server/lifecycle/mails.ts, server/duties/mails.ts,
 * server/approvals/askApprovers.ts), in the recipient's language (issue 16): each person's stored
 * language, else the organisation's (GATEWAY_DEFAULT_LANGUAGE). Times are filled in already
 * written in the mail's language and the organisation's zone (i18n/dates.ts).
 */
export const mails = {
  'mail.hello': 'Hello {name},',
  'mail.helloNobody': 'Hello,',
  'mail.unexpected': 'If you did not expect this, contact the helpdesk at once.',

  'mail.code.subject.activate': 'Your security key activation code',
  'mail.code.subject.reactivate': 'Your security key reactivation code',
  'mail.code.activate': 'Your security key "{label}" has been registered. To activate it, open the activation page, touch the key and enter this code:',
  'mail.code.reactivate': 'A reactivation of your security key "{label}" was started. To reactivate it, open the activation page, touch the key and enter this code:',
  'mail.code.expires':
    'The code can be used once and expires on {expires}. If this message reaches you more than once, only the newest code works. Nobody from the helpdesk will ever ask you for it.',
  'mail.code.unexpected': 'If you did not expect this message, contact the helpdesk at once.',

  'mail.state.issued': 'issued',
  'mail.state.active': 'active',
  'mail.state.suspended': 'suspended',
  'mail.state.revoked': 'revoked',
  'mail.state.expired': 'expired',
  'mail.transition.subject': 'Your security key "{label}" is now {state}',
  'mail.transition.subjectRevoked': 'Receipt: your security key "{label}" was revoked',
  'mail.transition.now': 'Your security key "{label}" is now {state}.',
  'mail.transition.reason': 'Reason:',
  'mail.transition.by': 'By:',
  'mail.transition.time': 'Time:',
  'mail.transition.keyId': 'Key id:',
  'mail.transition.note': 'Note:',
  'mail.transition.receipt': 'Receipt:',
  'mail.transition.revoked': 'This is your receipt for the revocation (NSIS 3.2.3). The key can never be used again.',
  'mail.transition.compromised': 'Because a compromise is suspected, this key can never be used again. Contact the helpdesk for a new key.',
  'mail.transition.suspended': 'The key cannot be used until it is reactivated through the helpdesk.',
  'mail.actor.system': 'the gateway itself (automatic protection)',
  'mail.actor.holder': 'you',
  'mail.actor.staff': '{name} ({role})',
  'mail.actor.someone': 'a staff member',
  'mail.role.helpdesk': 'helpdesk',
  'mail.role.security-officer': 'security-officer',
  'mail.role.org-admin': 'org-admin',
  'mail.role.provisioning': 'provisioning',
  'mail.role.employee': 'employee',

  'mail.clone.subject': 'Security key {state}: possible copy ({holder})',
  'mail.clone.text':
    'The security key "{label}" ({keyId}) of {holder} ({email}) presented a signature counter that did not increase on {at}. This suggests a copy of the key exists. The gateway took it out of use automatically (reason: {reason}; it is now {state}). It can only be revoked; the holder needs a new key.',

  'mail.bindingEnded.subject': 'Your binding to {org} has ended',
  'mail.bindingEnded.text.one': 'Your binding to {org} ended on {at}. {count} security key was revoked and all your sessions were ended.',
  'mail.bindingEnded.text.other': 'Your binding to {org} ended on {at}. {count} security keys were revoked and all your sessions were ended.',
  'mail.bindingEnded.unexpected': 'If you did not expect this, contact your organisation.',
  'mail.theOrganisation': 'the organisation',

  'mail.compromise.subject': 'Security keys taken out of use: model {aaguid} reported {status}',
  'mail.compromise.reported': 'The FIDO Metadata Service now reports the authenticator model {aaguid} as {status}.',
  'mail.compromise.done': 'The gateway suspended {suspended} active key(s) and revoked {revoked} key(s) not yet activated (reason: {reason}).',
  'mail.compromise.next': 'Their holders were notified. They need replacement keys of another model. The security page lists the affected fleet.',

  'mail.link.subject': 'Register your security key',
  'mail.link.issued': '{issuer} issued a one-time link for you to register a security key:',
  'mail.link.yourOrganisation': 'Your organisation',
  'mail.link.open':
    'Open it in your browser and touch your key. It can be used once and expires on {expires}. If this message reaches you more than once, only the newest link works.',
  'mail.link.after': 'After registering, an activation code comes to this address; with the key and the code you activate it.',
  'mail.link.nobody': 'Nobody will ever ask you for this link or the code. If you did not expect this message, contact the helpdesk at once.',

  'mail.handover.subject': 'A link to register a security key was handed over for you',
  'mail.handover.issued':
    'On {at}, {issuer} issued a one-time link for you to register a security key, and chose to hand it to you in person. It expires on {expires}.',
  'mail.handover.anAdministrator': 'an administrator',
  'mail.handover.check':
    'If you did not receive that link in person from them, contact the helpdesk or another administrator at once: someone else may be trying to register a key in your name.',
  'mail.handover.codeHere': 'The activation code for any key registered with it comes only to this address.',

  'mail.duty.subject.requested': 'Requested: {title}',
  'mail.duty.subject.executed': 'Done: {title}',
  'mail.duty.requested': '{who} asked for the following. It happens only if a second person approves it.',
  'mail.duty.approved': 'The following was carried out: asked for by {who} and approved by {approver}.',
  'mail.duty.bootstrap':
    'The following was carried out by {who} alone: the organisation does not yet have two people who could approve it, so two-person control is off for it.',
  'mail.duty.executed': 'The following was carried out by {who}.',
  'mail.duty.objectRequested':
    'If you did not ask for this, object at once: call or visit the helpdesk or another administrator (not by replying to this mail), and quote the reference below. Until someone approves it, nothing changes.',
  'mail.duty.objectExecuted': 'If you did not ask for this, contact the helpdesk or another administrator at once (not by replying to this mail), and quote the reference below.',
  'mail.duty.objectOther': 'If this looks wrong to you, contact another administrator or the security officers, and quote the reference below.',
  'mail.reference': 'Reference: {reference}',

  'mail.approval.subject': 'Waiting for your approval: {summary}',
  'mail.approval.asked': '{who} asked for the following. It happens only when a second person approves it, and you are one of those who may:',
  'mail.approval.open': 'Open your approvals inbox to approve or reject it: {url}',
  'mail.approval.wrong': 'If it looks wrong, reject it there, or tell another administrator or the security officers.',

  'mail.auditAlarm.subject': 'ALERT: the audit trail was changed; the gateway signs no further checkpoints',
  'mail.auditAlarm.refused':
    'On {at} the gateway refused to sign a checkpoint of its audit trail: the trail in the database no longer extends the last checkpoint the gateway signed and wrote to its witness.',
  'mail.auditAlarm.finding': 'Finding:',
  'mail.auditAlarm.detail': 'Detail:',
  'mail.auditAlarm.reason.checkpoints-removed': 'the witness holds checkpoints the database lacks (removed, or an older copy restored)',
  'mail.auditAlarm.reason.checkpoint-replaced': 'the database’s checkpoint differs from the one the witness holds',
  'mail.auditAlarm.reason.chain-rewritten': 'the entries after the last checkpoint do not lead from it to the head (edited, removed or re-chained)',
  'mail.auditAlarm.reason.unverifiable-checkpoint': 'a checkpoint in the database that is not witnessed yet does not verify',
  'mail.auditAlarm.reason.witness-conflict': 'the witness refused the new checkpoint: it holds another one with the same number',
  'mail.auditAlarm.next':
    'Until this is resolved the gateway signs no further checkpoints. Someone with write access to the database may have edited, removed or re-chained audit entries or checkpoints, or an older copy of the database was restored. Run `npm run audit:verify` on the server (and on a copy kept elsewhere) to see what changed, keep the database file, the witness directory and the logs as evidence, and follow the incident procedure.',

  'mail.adminRecovered.subject': 'Administrator access recovered for {name}',
  'mail.adminRecovered.what':
    'On {at} the administrator access of {name} <{email}> was recovered on the server itself: someone with local access to the gateway server and the HSM user PIN ran `npm run recover-admin`.',
  'mail.adminRecovered.server': 'Server:',
  'mail.adminRecovered.osUser': 'As user:',
  'mail.adminRecovered.token': 'HSM token:',
  'mail.adminRecovered.valid': 'Link valid:',
  'mail.adminRecovered.validUntil': 'until {expires} (one use)',
  'mail.adminRecovered.issued': 'A new one-time enrolment link was issued for {name}; no key was activated yet. The activation code will go to {email}.',
  'mail.adminRecovered.unexpected': 'If you did not expect this, act now: contact the security officers, and have the new key revoked or the binding ended before it is used.',
} as const;
