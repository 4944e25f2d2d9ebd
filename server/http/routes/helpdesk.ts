/**
 * The helpdesk console (and the people search the admin console shares): people with their keys
 * and histories, their audit trail, lifecycle actions on their keys (NSIS 3.2.3), replacements
 * (NSIS 3.2.4, 5.1) and bulk actions (NSIS 3.2.3 (Low) 2).
 */
import type { Actor } from '../../domain/types.js';
import { transition } from '../../flows/keys/transition.js';
import { bulkAction } from '../../flows/staff/bulkAction.js';
import { keysWithHistory, personAuditTrail, personDetail, searchPeople } from '../../flows/staff/consoleViews.js';
import { requestReplacement } from '../../flows/staff/requestReplacement.js';
import type { LifecycleAction } from '../../lifecycle/index.js';
import { route, type RouteSpec } from '../registry.js';
import { schemas } from '../schemas.js';
import { personLanguageOf, requestLanguage } from '../views/language.js';
import { KINDS_APPROVED_BY, approvalJson, credentialView, identityView, param, sessionOf, staffActor, type RouteDeps } from './shared.js';

export function helpdeskRoutes(deps: RouteDeps): RouteSpec[] {
  const { flows } = deps;
  return [
    ...(['helpdesk', 'admin'] as const).map((area) =>
      route({
        method: 'get',
        path: `/api/${area}/identities`,
        summary: 'Find people by name, email or UUID',
        tag: area,
        access: { kind: 'role', role: area === 'admin' ? 'org-admin' : 'helpdesk' },
        responses: { 200: 'Up to 50 people', 403: 'Role missing' },
        handler: async ({ req, res }) => {
          const q = typeof req.query['q'] === 'string' ? req.query['q'].slice(0, 200) : '';
          const found = await searchPeople(flows, staffActor(res, area === 'admin' ? 'org-admin' : 'helpdesk'), q);
          res.json({ identities: found.map((i) => ({ ...identityView(i), createdAt: i.createdAt, keyCount: i.keyCount, activeKeyCount: i.activeKeyCount })) });
        },
      }),
    ),
    route({
      method: 'get',
      path: '/api/helpdesk/identities/:id',
      summary: 'A person with their keys (model, state, reason, last use) and each key’s state history',
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      responses: { 200: 'The person', 403: 'Role missing', 404: 'Unknown identity' },
      handler: async ({ req, res }) => {
        const d = await personDetail(flows, staffActor(res, 'helpdesk'), param(req, 'id'));
        res.json({
          identity: {
            ...identityView(d.identity),
            proofingMethod: d.identity.proofingMethod,
            proofedBy: d.identity.proofedBy,
            proofedByName: d.proofedByName,
            createdAt: d.identity.createdAt,
            bindingEndedAt: d.identity.bindingEndedAt,
            subjectNameId: d.subjectNameId,
          },
          credentials: d.credentials.map((c) => ({ ...credentialView(c), history: c.history })),
        });
      },
    }),
    route({
      method: 'get',
      path: '/api/helpdesk/identities/:id/audit',
      summary: "A person's audit trail",
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      responses: { 200: 'Events, newest first', 403: 'Role missing', 404: 'Unknown identity' },
      handler: async ({ req, res }) => {
        res.json({ events: await personAuditTrail(flows, staffActor(res, 'helpdesk'), param(req, 'id')) });
      },
    }),
    route({
      method: 'post',
      path: '/api/helpdesk/identities/:id/replacement',
      summary: 'A replacement key without new proofing: based on another active key, or approved by a second person',
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      stepUp: true,
      body: schemas.replacement,
      clause: 'NSIS 3.2.4, 5.1',
      responses: { 201: 'Enrolment link mailed to the person (or, for handover, shown once)', 202: 'Waiting for a second approver', 403: 'Role, segregation of duties', 409: 'No basis' },
      handler: async ({ req, res, body }) => {
        const r = await requestReplacement(flows, staffActor(res, 'helpdesk'), param(req, 'id'), {
          basis: body.basis,
          replacesCredentialId: body.replacesCredentialId ?? null,
          revokeNow: body.revokeNow ?? false,
          note: body.note ?? null,
          delivery: body.delivery ?? 'mail',
        });
        if ('approval' in r) res.status(202).json({ approval: approvalJson(r.approval) });
        else res.status(201).json(r);
      },
    }),
    route({
      method: 'post',
      path: '/api/helpdesk/bulk',
      summary: 'Suspend or revoke several keys; more than a handful waits for a second approver',
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      stepUp: true,
      body: schemas.bulk,
      clause: 'NSIS 3.2.3 (Low) 2',
      responses: { 200: 'Per-key results', 202: 'Waiting for a second approver', 403: 'Role, segregation of duties' },
      handler: async ({ res, body }) => {
        const r = await bulkAction(flows, staffActor(res, 'helpdesk'), { action: body.action, credentialIds: body.credentialIds, reason: body.reason, note: body.note ?? null });
        if ('approval' in r) res.status(202).json({ approval: approvalJson(r.approval) });
        else res.json(r);
      },
    }),
    route({
      method: 'get',
      path: '/api/helpdesk/approvals',
      summary: 'Requests waiting for (or decided by) a second person',
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      responses: { 200: 'Approvals, newest first', 403: 'Role missing' },
      handler: async ({ req, res }) => {
        const language = requestLanguage(req, personLanguageOf(res) ?? deps.config.defaultLanguage);
        res.json({ approvals: await flows.approvals.list(sessionOf(res).identity, KINDS_APPROVED_BY('helpdesk'), language) });
      },
    }),
    staffAction(deps, 'suspend', 'Suspend a key (reason required)', 'NSIS 3.2.3 (Low) 1, (Substantial) 6'),
    staffAction(deps, 'request-reactivation', 'Start reactivation of a suspended key, or resend activation of an issued one: a fresh code goes to the holder', 'NSIS 3.2.2, 3.2.3 (Low) 3'),
    staffAction(deps, 'revoke', 'Revoke a key for good; the holder receives a receipt', 'NSIS 3.2.3 (Low) 4'),
    route({
      method: 'get',
      path: '/api/helpdesk/identities/:id/credentials',
      summary: "An employee's keys with their state history",
      tag: 'helpdesk',
      access: { kind: 'role', role: 'helpdesk' },
      responses: { 200: 'The keys', 403: 'Role missing', 404: 'Unknown identity' },
      handler: async ({ req, res }) => {
        const { identity, credentials } = await keysWithHistory(flows, param(req, 'id'));
        res.json({ identity: identityView(identity), credentials: credentials.map((c) => ({ ...credentialView(c), history: c.history })) });
      },
    }),
  ];
}

/** A lifecycle action by the helpdesk on someone's key, through the lifecycle table. */
function staffAction(deps: RouteDeps, action: LifecycleAction, summary: string, clause: string): RouteSpec {
  return route({
    method: 'post',
    path: `/api/helpdesk/credentials/:id/${action === 'request-reactivation' ? 'reactivate' : action}`,
    summary,
    tag: 'helpdesk',
    access: { kind: 'role', role: 'helpdesk' },
    stepUp: true,
    body: schemas.staffAction,
    clause,
    responses: { 200: 'The key after the action', 403: 'Role missing', 404: 'Unknown key', 409: 'Refused by the lifecycle table' },
    handler: async ({ req, res, body }) => {
      const actor: Actor = { identityId: sessionOf(res).identity.id, role: 'helpdesk' };
      const key = await transition(deps.flows, actor, { credentialId: param(req, 'id'), action, reason: body.reason, note: body.note ?? null });
      res.json({ credential: credentialView(key) });
    },
  });
}
