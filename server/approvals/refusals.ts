/** The stable answer to each way an approval can be refused (problem+json code and status). */
import { APPROVAL_REFUSAL_TEXT } from '../duties/index.js';
import { ForbiddenError, GatewayError, SegregationError } from '../errors.js';

export function refusalError(refusal: string): GatewayError {
  switch (refusal) {
    case 'decided':
      return new GatewayError('CONFLICT', 409, 'This request has already been decided.');
    case 'withdrawn':
      return new GatewayError('APPROVAL_WITHDRAWN', 409, 'This request was withdrawn: its requester lost the role it needed, or a binding ended. Nothing was done.');
    case 'requester-lost-role':
      return new GatewayError('APPROVAL_WITHDRAWN', 409, APPROVAL_REFUSAL_TEXT['requester-lost-role']);
    case 'approver-lacks-role':
      return new ForbiddenError('ROLE_REQUIRED', APPROVAL_REFUSAL_TEXT['approver-lacks-role']);
    case 'same-person':
    case 'approver-is-subject':
    case 'approver-set-up-by-requester':
      return new SegregationError(APPROVAL_REFUSAL_TEXT[refusal]);
    default:
      return new GatewayError('CONFLICT', 409, 'This request cannot be approved.');
  }
}

