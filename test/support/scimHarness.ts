/**
 * A real Express server on 127.0.0.1 with the SCIM router mounted at /scim/v2 over the in-memory
 * directory, real hashed tokens, and an audit sink that keeps every refusal; plus a small client
 * that speaks SCIM over fetch.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { FixedClock } from '../../server/clock.js';
import {
  type GroupRoleTable,
  type ScimPrincipal,
  type ScimRefusal,
  type ScimRouterOptions,
  type StoredScimToken,
  createScimRouter,
  createTokenVerifier,
  issueScimToken,
} from '../../server/scim/index.js';
import { MemoryScimDirectory } from './memoryScimDirectory.js';

export const ENTRA: ScimPrincipal = {
  clientId: 'entra-hr',
  organisationId: 'org-1',
  label: 'Entra ID (HR sync)',
  source: { ial: 'substantial', proofingMethod: 'HR onboarding: passport checked against CPR by trained HR staff' },
};

export const GROUP_ROLES: GroupRoleTable = [
  { displayName: 'NSIS Helpdesk', role: 'helpdesk' },
  { displayName: 'NSIS Security Officers', role: 'security-officer' },
];

export interface ScimAnswer {
  status: number;
  contentType: string | null;
  headers: Headers;
  body: Record<string, unknown> | null;
}

export interface ScimHarness {
  baseUrl: string;
  directory: MemoryScimDirectory;
  refusals: ScimRefusal[];
  unexpected: unknown[];
  clock: FixedClock;
  /** A valid token of ENTRA. */
  token: string;
  tokens: Map<string, StoredScimToken>;
  key: Buffer;
  request(method: string, path: string, init?: { body?: unknown; raw?: string | Uint8Array; token?: string | null; headers?: Record<string, string> }): Promise<ScimAnswer>;
  close(): Promise<void>;
}

export async function startScim(overrides: Partial<ScimRouterOptions> = {}, directory = new MemoryScimDirectory()): Promise<ScimHarness> {
  const key = randomBytes(32);
  const clock = new FixedClock('2026-01-05T08:00:00Z');
  const tokens = new Map<string, StoredScimToken>();
  const issued = issueScimToken(key);
  tokens.set(issued.tokenId, { tokenId: issued.tokenId, secretHash: issued.secretHash, principal: ENTRA, notAfter: null, revokedAt: null });
  const refusals: ScimRefusal[] = [];
  const unexpected: unknown[] = [];

  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}/scim/v2`;
  app.use(
    '/scim/v2',
    createScimRouter({
      users: directory.users,
      groups: directory.groups,
      groupRoles: GROUP_ROLES,
      verifier: createTokenVerifier(async (id) => tokens.get(id) ?? null, key, clock),
      audit: { refused: async (e) => void refusals.push(e) },
      baseUrl,
      limits: { bodyBytes: 64 * 1024, maxResults: 50, defaultCount: 20 },
      onError: (err) => unexpected.push(err),
      ...overrides,
    }),
  );

  return {
    baseUrl,
    directory,
    refusals,
    unexpected,
    clock,
    token: issued.token,
    tokens,
    key,
    async request(method, path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      const token = init.token === undefined ? issued.token : init.token;
      if (token !== null) headers['authorization'] ??= `Bearer ${token}`;
      let body: string | Uint8Array<ArrayBuffer> | undefined;
      if (init.raw !== undefined) body = typeof init.raw === 'string' ? init.raw : new Uint8Array(init.raw);
      else if (init.body !== undefined) body = JSON.stringify(init.body);
      if (body !== undefined) headers['content-type'] ??= 'application/scim+json';
      const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: Record<string, unknown> | null = null;
      if (text.length > 0) {
        const json: unknown = JSON.parse(text);
        parsed = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
      }
      return { status: res.status, contentType: res.headers.get('content-type'), headers: res.headers, body: parsed };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Microsoft Learn, "Develop and plan provisioning for a SCIM endpoint", Create User request. */
export function entraUser(n: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    externalId: `ext-${n}`,
    userName: `${n}@contoso.example`,
    active: true,
    emails: [{ primary: true, type: 'work', value: `${n}@contoso.example` }],
    meta: { resourceType: 'User' },
    name: { formatted: `Given ${n} Family`, familyName: 'Family', givenName: `Given ${n}` },
    roles: [],
    ...extra,
  };
}
