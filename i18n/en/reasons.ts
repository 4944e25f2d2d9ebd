/**
 * ONE wording per reason code, for every page and every mail: what the helpdesk picks in a list,
 * what the holder reads on "My keys" and in the revocation receipt, and what the key's history
 * says are the same words. docs/lifecycle.md lists them next to the codes the table accepts.
 */
import type { ReasonCode } from '../../server/domain/types.js';

export const reasons = {
  'reason.registered': 'Registered by the holder',
  'reason.activated': 'Activated by the holder',
  'reason.lost': 'Lost',
  'reason.found': 'Found again',
  'reason.damaged': 'Damaged or broken',
  'reason.suspected-compromise': 'Suspected compromise',
  'reason.suspected-clone': 'Suspected copy (clone) of the key',
  'reason.data-error': 'Issued on wrong identity data',
  'reason.agreement-ended': 'Agreement ended',
  'reason.holder-ceased': 'The holder has ceased to exist',
  'reason.employment-ended': 'Employment or binding ended',
  'reason.replaced': 'Replaced by a new key',
  'reason.holder-request': 'At the holder’s request',
  'reason.expired': 'Validity ran out',
  'reason.binding-suspended': 'The organisation’s directory suspended the person',
  'reason.binding-resumed': 'The organisation’s directory made the person active again',
  'reason.other': 'Other reason',
} as const satisfies Record<`reason.${ReasonCode}`, string>;
