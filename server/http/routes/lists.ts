/**
 * Staff lists (issue 16): people, keys, pending activations and open approvals, filtered,
 * sorted and paged on the server. The role is checked in the flow (server/flows/staff/lists.ts)
 * so that every refusal is audited with its code.
 */
import { listDirectoryRequests, listKeys, listOpenApprovals, listPendingActivations, listPeople, type ListArea } from '../../flows/staff/lists.js';
import { activationListQuery, approvalListQuery, directoryRequestListQuery, keyListQuery, peopleListQuery } from '../listSchemas.js';
import { parseQuery, route, type RouteSpec } from '../registry.js';
import { sessionOf, type RouteDeps } from './shared.js';
import { personLanguageOf, requestLanguage } from '../views/language.js';

const AREAS: readonly { path: 'helpdesk' | 'admin'; role: ListArea }[] = [
  { path: 'helpdesk', role: 'helpdesk' },
  { path: 'admin', role: 'org-admin' },
];

const REFUSALS = { 400: 'A filter, sort or page size not allowed (VALIDATION_FAILED)', 403: 'Role missing (ROLE_REQUIRED), audited' };

export function listRoutes(deps: RouteDeps): RouteSpec[] {
  const { flows } = deps;
  return [
    ...AREAS.map(({ path, role }) =>
      route({
        method: 'get',
        path: `/api/${path}/lists/people`,
        summary: 'People of the organisation, filtered by text, binding state, role or "no active key"; sorted and paged',
        tag: path,
        access: { kind: 'session' },
        query: peopleListQuery,
        clause: 'issue 16',
        responses: { 200: 'One page of people and the total', ...REFUSALS },
        handler: async ({ req, res }) => {
          const { q, binding, role: hasRole, noActiveKey, sort, direction, limit, offset } = parseQuery(peopleListQuery, req.query);
          const page = await listPeople(
            flows,
            sessionOf(res).identity,
            role,
            { ...(q ? { query: q } : {}), ...(binding ? { bindingState: binding } : {}), ...(hasRole ? { role: hasRole } : {}), ...(noActiveKey ? { noActiveKey } : {}) },
            { sort, direction, limit, offset },
          );
          res.json({ ...page, limit, offset });
        },
      }),
    ),
    route({
      method: 'get',
      path: '/api/helpdesk/lists/keys',
      summary: 'Keys of the organisation, filtered by state, model, level, last use, expiry and reason; sorted and paged',
      tag: 'helpdesk',
      access: { kind: 'session' },
      query: keyListQuery,
      clause: 'issue 16; NSIS 3.2.3',
      responses: { 200: 'One page of keys and the total', ...REFUSALS },
      handler: async ({ req, res }) => {
        const { q, state, model, aal, reason, lastUsedBefore, lastUsedAfter, expiringWithinDays, sort, direction, limit, offset } = parseQuery(keyListQuery, req.query);
        const page = await listKeys(
          flows,
          sessionOf(res).identity,
          {
            ...(q ? { query: q } : {}),
            ...(state && state.length > 0 ? { states: state } : {}),
            ...(model ? { model } : {}),
            ...(aal ? { aal } : {}),
            ...(reason ? { reason } : {}),
            ...(lastUsedBefore ? { lastUsedBefore } : {}),
            ...(lastUsedAfter ? { lastUsedAfter } : {}),
            ...(expiringWithinDays !== undefined ? { expiringWithinDays } : {}),
          },
          { sort, direction, limit, offset },
        );
        res.json({ ...page, limit, offset });
      },
    }),
    route({
      method: 'get',
      path: '/api/helpdesk/lists/activations',
      summary: 'Keys issued and waiting for their holder to activate them with the code sent',
      tag: 'helpdesk',
      access: { kind: 'session' },
      query: activationListQuery,
      clause: 'issue 16; NSIS 3.2.2',
      responses: { 200: 'One page of issued keys and the total', ...REFUSALS },
      handler: async ({ req, res }) => {
        const { q, sort, direction, limit, offset } = parseQuery(activationListQuery, req.query);
        res.json({ ...(await listPendingActivations(flows, sessionOf(res).identity, q, { sort, direction, limit, offset })), limit, offset });
      },
    }),
    ...AREAS.map(({ path, role }) =>
      route({
        method: 'get',
        path: `/api/${path}/lists/approvals`,
        summary: 'Requests still waiting for a second person that this console may decide (duties table)',
        tag: path,
        access: { kind: 'session' },
        query: approvalListQuery,
        clause: 'issue 16; NSIS 3.2.2 (High) 3',
        responses: { 200: 'One page of open approvals and the total', ...REFUSALS },
        handler: async ({ req, res }) => {
          const { sort, direction, limit, offset } = parseQuery(approvalListQuery, req.query);
          const language = requestLanguage(req, personLanguageOf(res) ?? deps.config.defaultLanguage);
          res.json({ ...(await listOpenApprovals(flows, sessionOf(res).identity, role, { sort, direction, limit, offset }, language)), limit, offset });
        },
      }),
    ),
    route({
      method: 'get',
      path: '/api/admin/lists/directory',
      summary:
        'Staff roles the organisation’s directory asks for (SCIM Groups mapped by GATEWAY_SCIM_GROUP_ROLES_FILE) that the person does not hold: person, role, groups, since; membership grants nothing (an org-admin asks for the grant, a second org-admin approves)',
      tag: 'admin',
      access: { kind: 'session' },
      query: directoryRequestListQuery,
      clause: 'issue 18; NSIS 5.2 (Substantial) 8; 4.1.5 (Substantial) 7',
      responses: { 200: 'One page of directory role requests and the total', ...REFUSALS },
      handler: async ({ req, res }) => {
        const { sort, direction, limit, offset } = parseQuery(directoryRequestListQuery, req.query);
        res.json({ ...(await listDirectoryRequests(flows, sessionOf(res).identity, flows.groupRoles.current(), { sort, direction, limit, offset })), limit, offset });
      },
    }),
  ];
}
