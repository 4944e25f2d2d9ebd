/**
 * Separation of duties as ONE table (NSIS 3.2.2 (High) 3, 3.2.3 (Low) 2, 3.2.4, 5.2, 6 (Substantial)
 * 11; 4.1.5 (Substantial) 7, 4.1.7).
 *
 * Every sensitive staff action is a row: who may ask for it, whether a second person must approve
 * it and in which role, what the organisation may do while it has too few people for two-person
 * control (bootstrap), who is told, which checks apply, and the clause. The code asks this table
 * (decideRequest, decideApproval); docs/duties.md renders it for auditors (npm run docs:duties).
 */
import type { AssignedRole } from '../domain/types.js';

export const DUTY_ACTIONS = [
  'contact-change',
  'role-grant',
  'role-revoke',
  'identity-create',
  'binding-end',
  'enrolment-issue',
  'enrolment-handover',
  'replacement',
  'bulk',
  'hsm-key-rotation',
  'hsm-key-emergency-rotation',
  'hsm-key-destroy',
  'oidc-client-change',
  'saml-key-activation',
  'saml-key-destroy',
  'saml-key-discard',
  'saml-sp-change',
  'provisioning-client-change',
] as const;
export type DutyAction = (typeof DUTY_ACTIONS)[number];

/** The actions that can wait for a second person: the kinds of the approvals table. */
export const APPROVAL_KINDS = [
  'contact-change',
  'role-grant',
  'replacement',
  'bulk',
  'hsm-key-rotation',
  'hsm-key-emergency-rotation',
  'hsm-key-destroy',
  'saml-key-activation',
  'saml-key-destroy',
  'saml-key-discard',
] as const satisfies readonly DutyAction[];
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

/** The staff roles that carry powers over other people (an `employee` has none). */
export const STAFF_ROLES = ['org-admin', 'helpdesk', 'security-officer'] as const satisfies readonly AssignedRole[];
export type StaffRole = (typeof STAFF_ROLES)[number];

/**
 * When a second person must approve: always, never, or on a condition the requesting flow
 * reports (a bulk action above GATEWAY_BULK_APPROVAL_THRESHOLD keys; a replacement for someone
 * who holds no other active key).
 */
export type ApprovalRule = 'always' | 'never' | 'above-bulk-threshold' | 'without-active-key';

/**
 * While fewer than two bound people hold an approver role of the row: `alone` lets the one
 * requester act alone (audited as `duty.bootstrap`, and the pages say that two-person control
 * is off); `waits` leaves the request waiting until a second person exists. Rows that never
 * wait ignore it.
 */
export type Bootstrap = 'alone' | 'waits';

/** Who is told (by mail to the address bound at that moment). The actor is never told of their own act. */
export type Recipient =
  | 'subject'
  | 'subject-old-address'
  | 'org-admins'
  | 'security-officers'
  | 'helpdesk'
  | 'key-holders';

export type DutyCheck =
  | 'step-up'
  | 'not-own'
  | 'approver-not-requester'
  | 'approver-not-subject'
  | 'approver-not-set-up-by-requester'
  | 'roles-rechecked-at-execution'
  | 'address-not-set-up-alone-by-issuer'
  | 'issuer-cannot-activate';

export interface DutyRow {
  action: DutyAction;
  title: string;
  requesters: readonly StaffRole[];
  approval: ApprovalRule;
  /** The roles a second person may approve in (empty when the row never waits). */
  approvers: readonly StaffRole[];
  bootstrap: Bootstrap;
  notify: { onRequest: readonly Recipient[]; onExecution: readonly Recipient[] };
  checks: readonly DutyCheck[];
  /** What happens when it is carried out (the effects the flow owns). */
  effects: string;
  clause: string;
}

/** Checks every approval has, whatever its row. */
const FOUR_EYES: readonly DutyCheck[] = [
  'approver-not-requester',
  'approver-not-subject',
  'approver-not-set-up-by-requester',
  'roles-rechecked-at-execution',
];

export const DUTY_TABLE: readonly DutyRow[] = Object.freeze([
  {
    action: 'contact-change',
    title: 'Change a person’s email address (the second channel)',
    requesters: ['org-admin'],
    approval: 'always',
    approvers: ['org-admin', 'helpdesk'],
    bootstrap: 'waits',
    notify: { onRequest: ['subject-old-address'], onExecution: ['subject-old-address', 'subject'] },
    checks: ['step-up', 'not-own', ...FOUR_EYES],
    effects:
      'The address changes only when a different staff member approves. The old address is told at once who asked, what, and how to object, and again when it is carried out. Open activation and reactivation codes and open enrolment links of the person are withdrawn.',
    clause: 'NSIS 3.2.2 (Substantial) 2, (High) 3; 5.2 (Low) 2',
  },
  {
    action: 'role-grant',
    title: 'Grant a staff role (org-admin, helpdesk, security-officer), also when a person is created or imported with one',
    requesters: ['org-admin'],
    approval: 'always',
    approvers: ['org-admin'],
    bootstrap: 'alone',
    notify: { onRequest: ['org-admins'], onExecution: ['subject', 'org-admins'] },
    checks: ['step-up', 'not-own', ...FOUR_EYES],
    effects:
      'The role is granted when a second org-admin approves. A person created or imported with staff roles is bound at once as an employee; the staff roles wait. Bootstrap: while the organisation has fewer than two org-admins, the one org-admin grants alone (audited duty.bootstrap), and everyone set up that way can never approve that org-admin’s requests.',
    clause: 'NSIS 5.2 (Substantial) 8; 4.1.5 (Substantial) 7',
  },
  {
    action: 'role-revoke',
    title: 'Withdraw a staff role',
    requesters: ['org-admin'],
    approval: 'never',
    approvers: [],
    bootstrap: 'alone',
    notify: { onRequest: [], onExecution: ['subject', 'org-admins'] },
    checks: ['step-up', 'not-own'],
    effects: 'At once (taking a power away is protective). The person’s pending requests made in that role are withdrawn, audited as approval.withdrawn. The organisation’s directory withdraws a role the same way (actor provisioning, audited role.revoked via directory) when no SCIM group mapped to it has the person any more, and at start when a row of the group-role table that alone asked for it was removed (actor system, cause role-table); a group membership never grants one (it is a request an org-admin may ask to grant, row above).',
    clause: 'NSIS 4.1.5 (Substantial) 7',
  },
  {
    action: 'identity-create',
    title: 'Bind a person to the organisation (as an employee)',
    requesters: ['org-admin'],
    approval: 'never',
    approvers: [],
    bootstrap: 'alone',
    notify: { onRequest: [], onExecution: [] },
    checks: ['step-up'],
    effects: 'The person is bound as an employee with the identity assurance reached. Staff roles asked for at the same time are a role grant (row above).',
    clause: 'NSIS 3.1.2, 5.2 (Substantial) 8',
  },
  {
    action: 'binding-end',
    title: 'End a binding',
    requesters: ['org-admin'],
    approval: 'never',
    approvers: [],
    bootstrap: 'alone',
    notify: { onRequest: [], onExecution: ['subject'] },
    checks: ['step-up', 'not-own'],
    effects: 'Every key revoked, every session ended, open enrolment links withdrawn; the person’s pending requests, and pending requests about them, are withdrawn.',
    clause: 'NSIS 5.2 (Low) 2-3',
  },
  {
    action: 'enrolment-issue',
    title: 'Issue an enrolment link, delivered by mail to the bound address (the default)',
    requesters: ['org-admin'],
    approval: 'never',
    approvers: [],
    bootstrap: 'alone',
    notify: { onRequest: [], onExecution: ['subject'] },
    checks: ['step-up', 'not-own', 'address-not-set-up-alone-by-issuer', 'issuer-cannot-activate'],
    effects:
      'A one-time link goes to the person’s bound address; the API never returns it to the issuer. Earlier open links are withdrawn. The activation code later goes to the same bound address, never to an address the issuer changed alone.',
    clause: 'NSIS 3.2.2 (Substantial) 2, (High) 3',
  },
  {
    action: 'enrolment-handover',
    title: 'Issue an enrolment link to hand over in person (an explicit choice)',
    requesters: ['org-admin'],
    approval: 'never',
    approvers: [],
    bootstrap: 'alone',
    notify: { onRequest: [], onExecution: ['subject'] },
    checks: ['step-up', 'not-own', 'address-not-set-up-alone-by-issuer', 'issuer-cannot-activate'],
    effects:
      'The link is shown once to the issuer, and the choice is audited (delivery: handover). The bound address is told that a link was handed over, by whom, and what to do if it was not them. The possession factor passes through the issuer; the activation code never does.',
    clause: 'NSIS 3.2.2 (High) 3',
  },
  {
    action: 'replacement',
    title: 'Issue a replacement key without new identity proofing',
    requesters: ['helpdesk'],
    approval: 'without-active-key',
    approvers: ['helpdesk'],
    bootstrap: 'waits',
    notify: { onRequest: [], onExecution: ['subject'] },
    checks: ['step-up', 'not-own', ...FOUR_EYES, 'address-not-set-up-alone-by-issuer'],
    effects:
      'At once when the person holds another active key (a valid means); otherwise when a second helpdesk member approves. The link goes by mail to the bound address unless handover in person was chosen. The replaced key is revoked as replaced, at once if asked or when the new key is active.',
    clause: 'NSIS 3.2.4, 5.1',
  },
  {
    action: 'bulk',
    title: 'Suspend or revoke several keys at once',
    requesters: ['helpdesk'],
    approval: 'above-bulk-threshold',
    approvers: ['helpdesk'],
    bootstrap: 'waits',
    notify: { onRequest: [], onExecution: ['key-holders'] },
    checks: ['step-up', 'not-own', ...FOUR_EYES],
    effects:
      'Up to GATEWAY_BULK_APPROVAL_THRESHOLD keys at once (each counts against the operator’s hourly limit); more wait for a second helpdesk member, who sees every key and its holder by name. Each holder is mailed by the lifecycle.',
    clause: 'NSIS 3.2.3 (Low) 2',
  },
  {
    action: 'hsm-key-rotation',
    title: 'Rotate the HSM signing key',
    requesters: ['security-officer'],
    approval: 'always',
    approvers: ['security-officer'],
    bootstrap: 'alone',
    notify: { onRequest: ['security-officers'], onExecution: ['security-officers'] },
    checks: ['step-up', ...FOUR_EYES],
    effects: 'A new key is generated in the HSM, published at once and promoted after GATEWAY_KEY_PROPAGATION_SECONDS; the old key retires.',
    clause: 'NSIS 6 (Substantial) 11; 4.1.6 (Low) 3',
  },
  {
    action: 'hsm-key-emergency-rotation',
    title: 'Emergency rotation of the active HSM signing key (suspected compromise)',
    requesters: ['security-officer'],
    approval: 'always',
    approvers: ['security-officer'],
    bootstrap: 'alone',
    notify: { onRequest: ['security-officers'], onExecution: ['security-officers'] },
    checks: ['step-up', ...FOUR_EYES],
    effects: 'The active key is unpublished and destroyed at once (every token it signed stops verifying); a new key becomes active.',
    clause: 'NSIS 6 (Substantial) 11; 4.1.6 (Low) 3',
  },
  {
    action: 'hsm-key-destroy',
    title: 'Destroy a retired HSM signing key',
    requesters: ['security-officer'],
    approval: 'always',
    approvers: ['security-officer'],
    bootstrap: 'alone',
    notify: { onRequest: ['security-officers'], onExecution: ['security-officers'] },
    checks: ['step-up', ...FOUR_EYES],
    effects: 'C_DestroyObject on the key pair; the key is no longer published.',
    clause: 'NSIS 6 (Substantial) 11; 4.1.6 (Low) 3',
  },
  {
    action: 'saml-key-activation',
    title: 'Switch the SAML identity provider to its next signing key',
    requesters: ['security-officer'],
    approval: 'always',
    approvers: ['security-officer'],
    bootstrap: 'alone',
    notify: { onRequest: ['security-officers'], onExecution: ['security-officers'] },
    checks: ['step-up', ...FOUR_EYES],
    effects: 'The pending SAML key signs the assertions from now on; the active one retires and stays published as the previous key until it is destroyed.',
    clause: 'NSIS 6 (Substantial) 11; 4.1.6 (Low) 3; OIOSAML 3 key rollover',
  },
  {
    action: 'saml-key-destroy',
    title: 'Destroy a retired SAML signing key',
    requesters: ['security-officer'],
    approval: 'always',
    approvers: ['security-officer'],
    bootstrap: 'alone',
    notify: { onRequest: ['security-officers'], onExecution: ['security-officers'] },
    checks: ['step-up', ...FOUR_EYES],
    effects: 'C_DestroyObject on the RSA key pair; its certificate leaves the IdP metadata.',
    clause: 'NSIS 6 (Substantial) 11; 4.1.6 (Low) 3',
  },
  {
    action: 'saml-key-discard',
    title: 'Discard a pending SAML signing key that never signed',
    requesters: ['security-officer'],
    approval: 'always',
    approvers: ['security-officer'],
    bootstrap: 'alone',
    notify: { onRequest: ['security-officers'], onExecution: ['security-officers'] },
    checks: ['step-up', ...FOUR_EYES],
    effects: 'The pending key goes straight to destroyed (never active): C_DestroyObject on its RSA key pair on every token of the HSM group, in the same transaction as the guarded state change; its certificate leaves the IdP metadata as the next key. An active key is refused (make another key active first, then destroy the retired one).',
    clause: 'NSIS 6 (Substantial) 11; 4.1.6 (Low) 3',
  },
  {
    action: 'saml-sp-change',
    title: 'Register, replace, name, disable or enable a SAML service provider from its metadata',
    requesters: ['org-admin'],
    approval: 'never',
    approvers: [],
    bootstrap: 'alone',
    notify: { onRequest: [], onExecution: ['org-admins', 'security-officers'] },
    checks: ['step-up'],
    effects: 'The service provider is registered, replaced, renamed, disabled or enabled at once (a disabled one is refused as unknown); every other org-admin and every security officer is told which entityID and assertion consumer URLs. A service provider from GATEWAY_SAML_SP_FILE is changed only there.',
    clause: 'NSIS 6 (Low) 1, 7; saml-metadata 2.4.4',
  },
  {
    action: 'oidc-client-change',
    title: 'Register or change an OpenID Connect relying party: rotate its secret, change its redirect URIs, disable or enable it',
    requesters: ['org-admin'],
    approval: 'never',
    approvers: [],
    bootstrap: 'alone',
    notify: { onRequest: [], onExecution: ['org-admins', 'security-officers'] },
    checks: ['step-up'],
    effects: 'The client is registered or changed at once (a new secret is answered once and only its keyed hash kept; a disabled client is refused at every endpoint); every other org-admin and every security officer is told which client and what changed. A client from GATEWAY_OIDC_CLIENTS_FILE is changed only there.',
    clause: 'NSIS 6 (Low) 1, 7',
  },
  {
    action: 'provisioning-client-change',
    title: 'Register a provisioning client (SCIM: the organisation’s directory), issue or revoke its tokens',
    requesters: ['org-admin'],
    approval: 'never',
    approvers: [],
    bootstrap: 'alone',
    notify: { onRequest: [], onExecution: ['org-admins', 'security-officers'] },
    checks: ['step-up'],
    effects:
      'At once; a new token is shown once and stored only as a keyed hash; every other org-admin and every security officer is told. The client is an actor of its own kind (`provisioning`): it binds people at the identity assurance and proofing method declared for it, suspends and resumes them (the lifecycle table’s provisioning rows), corrects names (keys revoked as data-error) and ends bindings. Its email changes are never carried out alone: the bound address stays, the new one is held on the admin page until a staff member asks for it as a contact change (row above: a second person approves).',
    clause: 'NSIS 3.1.2, 5.2 (Substantial) 8; 3.2.2 (High) 3',
  },
] satisfies DutyRow[]);

/** The row of an action; every action has exactly one (a test holds the table to that). */
export function dutyRow(action: DutyAction): DutyRow {
  const row = DUTY_TABLE.find((r) => r.action === action);
  if (!row) throw new TypeError(`no duty row for ${action}`);
  return row;
}
