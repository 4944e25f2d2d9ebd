/** What the staff consoles' flows are given: the core's ports and the one approvals mechanism. */
import type { Approvals } from '../approvals/Approvals.js';
import type { IdmReconciler } from '../idm/reconciler.js';
import type { GroupRoleTableInForce } from './provisioning/groupRoleTable.js';
import type { CoreDeps } from './deps.js';

export interface ConsoleDeps extends CoreDeps {
  approvals: Approvals;
  /** Issue 18: the directory group-role table in force (follows GATEWAY_SCIM_GROUP_ROLES_FILE). */
  groupRoles: GroupRoleTableInForce;
  /** Reconciliation with MitID Erhverv (issue 18), when the outbound sync is on. */
  idmReconciler?: IdmReconciler | undefined;
}
