/**
 * /scim/v2 in the gateway (issue 18): the SCIM service provider (server/scim) over the store and
 * the flows. Mounted outside /api: it parses its own bodies (application/scim+json), answers in
 * SCIM's error format, and authenticates provisioning clients by bearer token, not by session.
 * Every refusal, an unknown or revoked token included, is audited (`scim.refused`).
 */
import type { Request, Router } from 'express';
import type { Config } from '../config.js';
import type { ConsoleDeps } from '../flows/consoleDeps.js';
import type { CoreDeps } from '../flows/deps.js';
import { PROVISIONING_ACTOR, scimUserDirectory } from '../flows/provisioning/scimDirectory.js';
import { scimGroupDirectory } from '../flows/provisioning/scimGroupDirectory.js';
import { recordEvent } from '../flows/shared/audit.js';
import type { Logger } from '../logger.js';
import { createScimRouter } from '../scim/router.js';
import { createTokenVerifier, type StoredScimToken } from '../scim/tokens.js';

export const SCIM_BASE_PATH = '/scim/v2';

async function lookup(deps: CoreDeps, tokenId: string): Promise<StoredScimToken | null> {
  return deps.store.read(async (tx) => {
    const token = await tx.provisioning.token(tokenId);
    const client = token ? await tx.provisioning.client(token.clientId) : undefined;
    if (!token || !client) return null;
    return {
      tokenId: token.tokenId,
      secretHash: token.secretHash,
      notAfter: token.notAfter,
      revokedAt: token.revokedAt,
      principal: { clientId: client.id, organisationId: client.organisationId, label: client.label, source: { ial: client.ial, proofingMethod: client.proofingMethod } },
    };
  });
}

export function scimRouter(deps: ConsoleDeps, config: Readonly<Config>, log: Logger): Router {
  // The table in force at each request: it follows GATEWAY_SCIM_GROUP_ROLES_FILE (groupRoleFileWatcher.ts).
  const table = () => deps.groupRoles.current();
  return createScimRouter({
    users: scimUserDirectory(deps),
    // /Groups is served only while the organisation maps directory groups to roles.
    groups: scimGroupDirectory(deps, table),
    groupRoles: table,
    verifier: createTokenVerifier((tokenId) => lookup(deps, tokenId), deps.secretKey, deps.clock),
    audit: {
      async refused(e) {
        // Its own transaction: the refused request changed nothing. Never the token itself. The
        // answer waits for it (ScimAuditSink), so no refusal is answered before it is recorded.
        await deps.store
          .write((tx) =>
            recordEvent(deps, tx, 'scim.refused', PROVISIONING_ACTOR, null, {
              clientId: e.clientId,
              method: e.method,
              path: e.path,
              status: e.status,
              scimType: e.scimType,
              detail: e.detail.slice(0, 300),
              tokenRefusal: e.tokenRefusal ?? null,
            }),
          )
          .catch((err: unknown) => log.error({ err }, 'scim refusal not audited'));
      },
    },
    baseUrl: `${config.origin}${SCIM_BASE_PATH}`,
    limits: config.scim.limits,
    onError: (err: unknown, req: Request) => log.error({ err, path: req.path }, 'scim failure'),
  });
}
