/**
 * An org-admin registers or changes a relying party through the duties table (oidc-client-change):
 * with step-up at the edge, carried out at once, and every other org-admin and every security
 * officer told which client and which redirect URIs (NSIS 6 (Low) 1, 7).
 */
import type { Approvals, Outcome } from '../approvals/Approvals.js';
import type { JsonValue } from '../audit/canonicalJson.js';
import type { Actor } from '../domain/types.js';
import type { Store } from '../ports/store.js';
import { clientSchema } from './clientsFile.js';
import type { OpenIdProvider } from './OpenIdProvider.js';

export function registerOidcClientExecutor(approvals: Approvals, oidc: OpenIdProvider, store: Store): void {
  approvals.register('oidc-client-change', async (e): Promise<Outcome> => {
    const { jwks, backchannelLogoutUri, ...rest } = clientSchema.parse(e.payload);
    const out = await oidc.registerClient(e.requester, {
      ...rest,
      ...(jwks ? { jwks: { keys: jwks.keys.map((k) => ({ ...k })) } } : {}),
      ...(backchannelLogoutUri ? { backchannelLogoutUri } : {}),
    });
    await store.write((tx) => e.tell(tx));
    // The secret is answered once to the admin, never kept with the request.
    return { result: `client ${out.clientId} registered`, detail: { clientId: out.clientId, ...(out.clientSecret ? { clientSecret: out.clientSecret } : {}) } };
  });
}

/** Asks for a client registration or change; answers what registerClient answers. */
export async function changeOidcClient(approvals: Approvals, actor: Actor, input: { [key: string]: JsonValue }): Promise<{ clientId: string; clientSecret?: string }> {
  const c = clientSchema.parse(input);
  const asked = await approvals.request({
    kind: 'oidc-client-change',
    actor,
    subjects: [],
    payload: input,
    summary: `Relying party ${c.clientId} (${c.name}) registered or changed`,
    items: [
      `Client ${c.clientId} “${c.name}”, authentication ${c.authMethod}, minimum level ${c.minLoa}`,
      ...c.redirectUris.map((u) => `Redirect URI ${u}`),
      ...c.postLogoutRedirectUris.map((u) => `Post-logout redirect URI ${u}`),
      ...(c.backchannelLogoutUri ? [`Back-channel logout URI ${c.backchannelLogoutUri}`] : []),
    ],
  });
  if (asked.state !== 'done') throw new TypeError('a client change never waits');
  const clientId = asked.outcome.detail?.['clientId'];
  const secret = asked.outcome.detail?.['clientSecret'];
  return { clientId: typeof clientId === 'string' ? clientId : c.clientId, ...(typeof secret === 'string' ? { clientSecret: secret } : {}) };
}
