/**
 * Separation of duties (NSIS 3.2.2 (High) 3, 3.2.3 (Low) 2, 3.2.4; 5.2): the requests waiting for
 * a second person, their decisions, and the duties table with the two-person controls in force.
 */
import type { Response } from 'express';
import type { Actor } from '../../domain/types.js';
import { DUTY_TABLE } from '../../duties/index.js';
import { route, type RouteSpec } from '../registry.js';
import { schemas } from '../schemas.js';
import { personLanguageOf, requestLanguage } from '../views/language.js';
import { approvalJson, param, staffMember, type RouteDeps } from './shared.js';

export function approvalRoutes(deps: RouteDeps): RouteSpec[] {
  const { approvals } = deps.flows;
  /** The actor for a decision: the approvals mechanism decides which of their roles counts. */
  const decider = (res: Response): Actor => ({ identityId: staffMember(res).id, role: 'org-admin' });
  return [
    ...(['/api/helpdesk/approvals', '/api/approvals'] as const).flatMap((base) =>
      (['approve', 'reject'] as const).map((decision) =>
        route({
          method: 'post',
          path: `${base}/:id/${decision}`,
          summary:
            decision === 'approve'
              ? 'Approve and carry out a request made by someone else (not about you, not by someone who set you up)'
              : 'Reject a pending request (or withdraw your own)',
          tag: base === '/api/approvals' ? 'approvals' : 'helpdesk',
          access: base === '/api/approvals' ? { kind: 'session' } : { kind: 'role', role: 'helpdesk' },
          stepUp: true,
          body: schemas.empty,
          clause: 'NSIS 3.2.2 (High) 3, 3.2.3 (Low) 2, 3.2.4',
          responses: {
            200: 'Decided',
            401: 'Step-up required',
            403: 'Same person, a person the request is about or set up by the requester, or role missing',
            404: 'Unknown approval',
            409: 'Already decided, or withdrawn',
          },
          handler: async ({ req, res }) => {
            const actor = decider(res);
            if (decision === 'reject') {
              res.json({ approval: approvalJson(await approvals.reject(actor, param(req, 'id'))) });
              return;
            }
            const { approval, outcome } = await approvals.approve(actor, param(req, 'id'));
            res.json({ approval: approvalJson(approval), ...(outcome.link ? { link: outcome.link } : {}), ...(outcome.detail ?? {}) });
          },
        }),
      ),
    ),
    route({
      method: 'get',
      path: '/api/approvals',
      summary: 'Requests waiting for (or decided by) a second person that you asked for or may approve, each with what will happen and whether you may approve it',
      tag: 'approvals',
      access: { kind: 'session' },
      clause: 'NSIS 3.2.2 (High) 3',
      responses: { 200: 'Approvals, newest first', 403: 'No staff role' },
      handler: async ({ req, res }) => {
        const language = requestLanguage(req, personLanguageOf(res) ?? deps.config.defaultLanguage);
        res.json({ approvals: await approvals.list(staffMember(res), undefined, language) });
      },
    }),
    route({
      method: 'get',
      path: '/api/duties',
      summary: 'The separation-of-duties table and which two-person controls are on now (off while too few people hold a role)',
      tag: 'approvals',
      access: { kind: 'session' },
      clause: 'NSIS 3.2.2 (High) 3; 5.2',
      responses: { 200: 'The table and the status', 403: 'No staff role' },
      handler: async ({ res }) => {
        staffMember(res);
        res.json({ status: await approvals.status(), table: DUTY_TABLE });
      },
    }),
  ];
}
