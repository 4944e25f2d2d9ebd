/** The API routes, by area; operations.ts adds the root probes, oidc/apiRoutes.ts the OIDC page's. */
import type { RouteSpec } from '../registry.js';
import { adminRoutes } from './admin.js';
import { approvalRoutes } from './approvals.js';
import { auditTrailRoutes } from './auditTrail.js';
import { ceremonyRoutes } from './ceremonies.js';
import { helpdeskRoutes } from './helpdesk.js';
import { listRoutes } from './lists.js';
import { meRoutes } from './me.js';
import { oidcClientRoutes } from './oidcClients.js';
import { provisioningRoutes } from './provisioning.js';
import { securityRoutes } from './security.js';
import type { RouteDeps } from './shared.js';

export type { HealthSource, RouteDeps } from './shared.js';
export { credentialView, identityView, sessionOf } from './shared.js';

export function buildRoutes(deps: RouteDeps): RouteSpec[] {
  return [...ceremonyRoutes(deps), ...meRoutes(deps), ...securityRoutes(deps), ...auditTrailRoutes(deps), ...helpdeskRoutes(deps), ...listRoutes(deps), ...approvalRoutes(deps), ...adminRoutes(deps), ...oidcClientRoutes(deps), ...provisioningRoutes(deps)];
}
