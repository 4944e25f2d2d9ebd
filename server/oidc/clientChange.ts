/**
 * An org-admin registers or changes a relying party through the duties table (oidc-client-change):
 * with step-up at the edge, carried out at once, and every other org-admin and every security
 * officer told which client and what changed (NSIS 6 (Low) 1, 7). A change is a registration
 * (the client's whole description), a secret rotation, new redirect URIs, or disabling/enabling.
 */
import { z } from 'zod';
import type { Approvals, Outcome } from '../approvals/Approvals.js';
import type { JsonValue } from '../audit/canonicalJson.js';
import type { Actor } from '../domain/types.js';
import type { Store } from '../ports/store.js';
import { clientSchema } from './clientsFile.js';
import type { OpenIdProvider } from './OpenIdProvider.js';

const clientId = clientSchema.shape.clientId;
/** The changes of an existing client, as the approval's payload carries them (never a secret). */
export const clientOperationSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('rotate-secret'), clientId }).strict(),
  z.object({ op: z.literal('disable'), clientId }).strict(),
  z.object({ op: z.literal('enable'), clientId }).strict(),
  z
    .object({
      op: z.literal('redirect-uris'),
      clientId,
      redirectUris: clientSchema.shape.redirectUris,
      postLogoutRedirectUris: z.array(z.string().url()).max(20),
    })
    .strict(),
]);
export type ClientOperation = z.infer<typeof clientOperationSchema>;

export function registerOidcClientExecutor(approvals: Approvals, oidc: OpenIdProvider, store: Store): void {
  approvals.register('oidc-client-change', async (e): Promise<Outcome> => {
    const operation = clientOperationSchema.safeParse(e.payload);
    if (operation.success) {
      const o = operation.data;
      let detail: { [key: string]: JsonValue } = { clientId: o.clientId };
      if (o.op === 'rotate-secret') detail = { ...(await oidc.rotateClientSecret(e.requester, o.clientId)) };
      else if (o.op === 'redirect-uris') await oidc.changeClientUris(e.requester, o.clientId, { redirectUris: o.redirectUris, postLogoutRedirectUris: o.postLogoutRedirectUris });
      else await oidc.setClientEnabled(e.requester, o.clientId, o.op === 'enable');
      await store.write((tx) => e.tell(tx));
      // The secret is answered once to the admin, never kept with the request.
      return { result: `client ${o.clientId}: ${o.op}`, detail };
    }
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
  return answered(asked, c.clientId);
}

const OPERATION_WORDS: Record<ClientOperation['op'], string> = {
  'rotate-secret': 'client secret rotated (the old secret is refused from now on)',
  disable: 'disabled: every sign-in and token request of it is refused',
  enable: 'enabled again',
  'redirect-uris': 'redirect URIs changed',
};

/** Asks for a change of an existing client (carried out at once; the others are told what). */
export async function changeOidcClientOperation(approvals: Approvals, actor: Actor, o: ClientOperation): Promise<{ clientId: string; clientSecret?: string }> {
  const asked = await approvals.request({
    kind: 'oidc-client-change',
    actor,
    subjects: [],
    payload: { ...o },
    summary: `Relying party ${o.clientId}: ${OPERATION_WORDS[o.op]}`,
    items: [
      `Client ${o.clientId}: ${OPERATION_WORDS[o.op]}`,
      ...(o.op === 'redirect-uris' ? [...o.redirectUris.map((u) => `Redirect URI ${u}`), ...o.postLogoutRedirectUris.map((u) => `Post-logout redirect URI ${u}`)] : []),
    ],
  });
  return answered(asked, o.clientId);
}

function answered(asked: Awaited<ReturnType<Approvals['request']>>, fallbackId: string): { clientId: string; clientSecret?: string } {
  if (asked.state !== 'done') throw new TypeError('a client change never waits');
  const id = asked.outcome.detail?.['clientId'];
  const secret = asked.outcome.detail?.['clientSecret'];
  return { clientId: typeof id === 'string' ? id : fallbackId, ...(typeof secret === 'string' ? { clientSecret: secret } : {}) };
}
