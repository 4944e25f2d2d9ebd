/**
 * The audit trail a person can read (issue 16; NSIS 6 (Low) 7): the filtered, paged view and its
 * exports (CSV; signed JSON that `npm run audit:verify -- --export FILE` checks). Security officers
 * only; anyone else signed in is refused with ROLE_REQUIRED and the refusal is audited
 * (server/flows/audit/readTrail.ts). The helpdesk keeps its one-person trail in helpdesk.ts.
 */
import { once } from 'node:events';
import type { Response } from 'express';
import { EXPORT_JWS_TYP } from '../../audit/exportFormat.js';
import { parseTrailQuery } from '../../flows/audit/auditQuery.js';
import { startExport, writeCsv, writeSignedJson, type ExportSink } from '../../flows/audit/exportTrail.js';
import { lookupRefs } from '../../flows/audit/lookupRefs.js';
import { readTrail, requireTrailReader } from '../../flows/audit/readTrail.js';
import { route, type RouteSpec } from '../registry.js';
import { keyManagerOf, sessionOf, type RouteDeps } from './shared.js';

/** Writes to the response, waiting while its buffer is full (a slow client slows the export, not the memory). */
function sinkOf(res: Response): ExportSink {
  return async (chunk) => {
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    if (res.destroyed) throw new Error('the client went away');
  };
}

const FILTER_DOC = 'Query: person, key, actor (ids), event (kinds, comma-separated), from, to (ISO 8601; from inclusive, to exclusive), lang (da|en).';

export function auditTrailRoutes(deps: RouteDeps): RouteSpec[] {
  const { flows } = deps;
  const stamp = (at: Date) => at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return [
    route({
      method: 'get',
      path: '/api/security/audit/entries',
      summary: `The audit trail in words, newest first, filtered and paged (security officers). ${FILTER_DOC} Paging: limit (1-200), before (the next cursor).`,
      tag: 'security',
      access: { kind: 'session' },
      clause: 'NSIS 6 (Low) 7',
      responses: { 200: 'Entries with people and keys by name, and the next cursor', 400: 'Filter not valid', 403: 'Role missing (audited)' },
      handler: async ({ req, res }) => {
        const who = sessionOf(res).identity;
        const asked = parseTrailQuery(req.query);
        await requireTrailReader(flows, who, 'entries');
        res.json(await readTrail(flows, asked.query, asked.limit));
      },
    }),
    route({
      method: 'get',
      path: '/api/security/audit/lookup',
      summary: 'Find a person or key for the trail filter by name, e-mail address or id (security officers): q (2-200 characters). Up to 10 people, with their keys.',
      tag: 'security',
      access: { kind: 'session' },
      clause: 'NSIS 6 (Low) 7',
      responses: { 200: 'People and keys with their ids', 400: 'q missing, too short or too long', 403: 'Role missing (audited)' },
      handler: async ({ req, res }) => {
        res.json(await lookupRefs(flows, sessionOf(res).identity, req.query));
      },
    }),
    route({
      method: 'get',
      path: '/api/security/audit/export.csv',
      summary: `The filtered trail as CSV (RFC 4180, UTF-8 with BOM, formula-safe cells), streamed; the export is audited. ${FILTER_DOC}`,
      tag: 'security',
      access: { kind: 'session' },
      clause: 'NSIS 6 (Low) 7',
      responses: { 200: 'CSV', 400: 'Filter not valid or range too large', 403: 'Role missing (audited)' },
      contentTypes: { 200: 'text/csv' },
      handler: async ({ req, res }) => {
        const who = sessionOf(res).identity;
        const asked = parseTrailQuery(req.query);
        const actor = await requireTrailReader(flows, who, 'export.csv');
        const r = { actor, query: asked.query, language: asked.language, format: 'csv' as const };
        const range = await startExport(flows, r);
        res.status(200);
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="audit-${stamp(flows.clock.now())}.csv"`);
        res.setHeader('Cache-Control', 'no-store');
        await streamed(res, () => writeCsv(flows, r, range, sinkOf(res)));
      },
    }),
    route({
      method: 'get',
      path: '/api/security/audit/export.json',
      summary: `The range of the filtered trail as a JSON file signed by the HSM (entries with chain hashes, anchor, checkpoints), streamed; the export is audited. ${FILTER_DOC}`,
      tag: 'security',
      access: { kind: 'session' },
      clause: 'NSIS 6 (Low) 7, 4.1.7 (Low) 3',
      responses: { 200: 'Signed export', 400: 'Filter not valid or range too large', 403: 'Role missing (audited)', 503: 'HSM unavailable' },
      contentTypes: { 200: 'application/json' },
      handler: async ({ req, res }) => {
        const who = sessionOf(res).identity;
        const asked = parseTrailQuery(req.query);
        const actor = await requireTrailReader(flows, who, 'export.json');
        const keys = keyManagerOf(deps);
        // Before the first byte: a missing signing key is a 503, not a file without a signature.
        await keys.activeSigner();
        const r = { actor, query: asked.query, language: asked.language, format: 'json' as const, exportedBy: `${who.name} <${who.email}> (${who.id})` };
        const range = await startExport(flows, r);
        res.status(200);
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="audit-${stamp(flows.clock.now())}.json"`);
        res.setHeader('Cache-Control', 'no-store');
        await streamed(res, () => writeSignedJson(flows, r, range, (manifest) => keys.signJws(manifest, EXPORT_JWS_TYP), sinkOf(res)));
      },
    }),
  ];
}

/** Runs a streamed body; a failure once bytes went out cuts the response (the file is then visibly incomplete). */
async function streamed(res: Response, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
    res.end();
  } catch (err) {
    if (!res.headersSent) throw err;
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}
