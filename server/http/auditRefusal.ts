/**
 * A refusal of an audited route (RouteSpec.auditRefusal) goes into the audit trail before it is
 * answered (NSIS 6 (Low) 7: a record of the events of administration, refusals included): who
 * asked (when signed in), which route and object, and the problem code the answer carries. Never
 * the request body: it may hold a secret or a whole metadata document.
 */
import type { Request, Response } from 'express';
import type { Actor, AssignedRole } from '../domain/types.js';
import type { GatewayError } from '../errors.js';
import type { CoreDeps } from '../flows/deps.js';
import { recordEvent } from '../flows/shared/audit.js';
import type { SessionView } from '../flows/sessions/resolveSession.js';

export async function auditRouteRefusal(deps: CoreDeps, type: string, req: Request, res: Response, err: GatewayError, role?: AssignedRole): Promise<void> {
  const view: unknown = res.locals['session'];
  const session = view ? (view as SessionView) : undefined;
  const actor: Actor = session
    ? { identityId: session.identity.id, role: role && role !== 'employee' && session.identity.roles.includes(role) ? role : 'holder' }
    : { identityId: null, role: 'system' };
  const id = req.params['id'];
  const route = typeof res.locals['route'] === 'string' ? res.locals['route'] : req.path;
  await deps.store.write((tx) =>
    recordEvent(deps, tx, type, actor, typeof id === 'string' && id.length <= 200 ? id : null, {
      reason: err.code.toLowerCase(),
      code: err.code,
      status: err.status,
      route: `${req.method} ${route}`,
      ...(session ? {} : { signedIn: false }),
    }),
  );
  deps.log.info({ event: type, errorCode: err.code, route }, 'refused');
}
