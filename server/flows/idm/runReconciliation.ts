/**
 * An org-admin asks for a reconciliation with MitID Erhverv now (issue 18: "a nightly (and
 * on-demand) reconciliation"). It needs the org-admin role and a fresh security-key sign-in
 * (NSIS 3.1.2 (Substantial) 8: it queues changes at MitID Erhverv in the organisation's name).
 * Every refusal is audited (idm.reconcile-refused) with its stable code: ROLE_REQUIRED,
 * STEP_UP_REQUIRED, IDM_SYNC_OFF, IDM_RECONCILIATION_RUNNING (one run at a time across processes
 * and instances: the store lease of IdmReconciler).
 */
import type { Actor, Identity } from '../../domain/types.js';
import { ForbiddenError, GatewayError, StepUpRequiredError } from '../../errors.js';
import type { ReconcileOutcome } from '../../idm/reconciler.js';
import type { ConsoleDeps } from '../consoleDeps.js';
import { recordEvent } from '../shared/audit.js';

export interface Requester {
  identity: Identity;
  /** When the session's sign-in (its last key touch) was, and at which assurance. */
  signedInAt: string;
  aal: string;
}

export async function runReconciliation(deps: ConsoleDeps, who: Requester): Promise<ReconcileOutcome> {
  const actor: Actor = { identityId: who.identity.id, role: who.identity.roles.includes('org-admin') ? 'org-admin' : 'holder' };
  const refuse = async (err: GatewayError): Promise<never> => {
    await deps.store.write((tx) => recordEvent(deps, tx, 'idm.reconcile-refused', actor, null, { code: err.code, clause: 'issue 18; NSIS 3.1.2 (Substantial) 8' }));
    deps.log.info({ event: 'idm.reconcile-refused', errorCode: err.code }, 'refused');
    throw err;
  };
  if (who.identity.bindingState !== 'active' || !who.identity.roles.includes('org-admin')) return refuse(new ForbiddenError('ROLE_REQUIRED', 'This action needs the org-admin role.'));
  const age = (deps.clock.now().getTime() - new Date(who.signedInAt).getTime()) / 60_000;
  if (age > deps.config.stepUpMinutes || who.aal === 'low') return refuse(new StepUpRequiredError(deps.config.stepUpMinutes));
  const reconciler = deps.idmReconciler;
  if (!reconciler) return refuse(new GatewayError('IDM_SYNC_OFF', 409, 'The outbound sync to MitID Erhverv is off (no GATEWAY_IDM_BASE_URL): there is nothing to reconcile with.'));
  const outcome = await reconciler.run({ kind: 'on-demand', actorId: who.identity.id });
  if (outcome === 'busy') return refuse(new GatewayError('IDM_RECONCILIATION_RUNNING', 409, 'A reconciliation with MitID Erhverv is running now; its outcome will be shown here when it ends.'));
  return outcome;
}
