import { LifecycleError } from '../errors.js';
import type { ActorRole, CredentialState, ReasonCode } from '../domain/types.js';
import { LIFECYCLE_TABLE, type Evidence, type LifecycleAction, type TransitionRow } from './table.js';

export interface TransitionRequest {
  action: LifecycleAction;
  role: ActorRole;
  reason: ReasonCode;
  evidence?: readonly Evidence[];
}

export interface KeyStatus {
  state: CredentialState;
  stateReason: ReasonCode | null;
}

const COMPROMISE_REASONS: readonly (ReasonCode | null)[] = ['suspected-compromise', 'suspected-clone'];

/**
 * Asks the lifecycle table whether `request` is allowed from `current`. Pure: returns the row
 * to apply, or throws a LifecycleError with the stable code of the first check that failed.
 */
export function decideTransition(current: KeyStatus, request: TransitionRequest): TransitionRow {
  const byState = LIFECYCLE_TABLE.filter((r) => r.action === request.action && r.from.includes(current.state));
  if (byState.length === 0) {
    throw new LifecycleError(
      'LIFECYCLE_TRANSITION_REFUSED',
      `A key that is ${current.state} cannot be ${describe(request.action)}.`,
    );
  }
  const row = byState.find((r) => r.roles.includes(request.role));
  if (!row) {
    throw new LifecycleError('LIFECYCLE_ROLE_REFUSED', `The role ${request.role} may not ${request.action} this key.`);
  }
  if (!row.reasons.includes(request.reason)) {
    throw new LifecycleError(
      'LIFECYCLE_REASON_REFUSED',
      `Reason "${request.reason}" is not accepted for ${request.action}; use one of: ${row.reasons.join(', ')}.`,
    );
  }
  const presented = request.evidence ?? [];
  const missing = row.evidence.filter((e) => !presented.includes(e));
  if (missing.length > 0) {
    throw new LifecycleError('LIFECYCLE_TRANSITION_REFUSED', `${request.action} needs evidence: ${missing.join(', ')}.`);
  }
  for (const guard of row.guards) {
    // NSIS 3.2.3 (Low) 3-4: a key suspected compromised or cloned is never trusted again.
    if (guard === 'not-suspected-compromise' && COMPROMISE_REASONS.includes(current.stateReason)) {
      throw new LifecycleError(
        'LIFECYCLE_REACTIVATION_FORBIDDEN',
        `This key was suspended as ${current.stateReason}; it can only be revoked, never reactivated.`,
      );
    }
    // Issue 18: a key the directory suspended with its person stays out of use until the
    // directory makes the person active again (binding-resumed), NSIS 3.2.3 (Low) 3.
    if (guard === 'not-binding-suspended' && current.stateReason === 'binding-suspended') {
      throw new LifecycleError('LIFECYCLE_BINDING_SUSPENDED', 'The organisation’s directory has suspended this person; the key is reactivated only after the directory makes them active again.');
    }
  }
  return row;
}

function describe(action: LifecycleAction): string {
  switch (action) {
    case 'activate':
      return 'activated';
    case 'suspend':
      return 'suspended';
    case 'request-reactivation':
      return 'offered reactivation';
    case 'reactivate':
      return 'reactivated';
    case 'revoke':
      return 'revoked';
    case 'expire':
      return 'expired';
  }
}
