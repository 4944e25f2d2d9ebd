/**
 * The SAML identity provider's sensitive actions through the duties table (server/duties): the
 * SAML signing key's switch and destruction wait for a second security officer (NSIS 6
 * (Substantial) 11, the same two-person control as the token keys), and a service provider's
 * registration is carried out at once with every other org-admin and security officer told.
 */
import { z } from 'zod';
import type { Approvals, Outcome, RequestOutcome } from '../../approvals/Approvals.js';
import type { JsonValue } from '../../audit/canonicalJson.js';
import type { Actor } from '../../domain/types.js';
import { SamlAdminError } from '../../errors.js';
import { parseSpMetadata, type ServiceProvider } from '../../saml/index.js';
import { registerServiceProvider, type RegisteredServiceProvider } from './registerServiceProvider.js';
import type { SamlDeps } from './samlDeps.js';

const keyPayload = z.object({ kid: z.string().min(1).max(128) }).strict();
const spPayload = z.object({ metadataXml: z.string(), settings: z.record(z.string(), z.unknown()) }).strict();

export function registerSamlExecutors(approvals: Approvals, saml: SamlDeps): void {
  approvals.register('saml-key-activation', async (e): Promise<Outcome> => {
    const { kid } = keyPayload.parse(e.payload);
    await saml.keys.activate(kid, e.requester);
    await saml.core.store.write((tx) => e.tell(tx));
    return { result: `SAML key ${kid} active`, detail: { kid } };
  });
  approvals.register('saml-key-destroy', async (e): Promise<Outcome> => {
    const { kid } = keyPayload.parse(e.payload);
    await saml.keys.destroy(kid, e.requester);
    await saml.core.store.write((tx) => e.tell(tx));
    return { result: `SAML key ${kid} destroyed`, detail: { kid } };
  });
  approvals.register('saml-sp-change', async (e): Promise<Outcome> => {
    const { metadataXml, settings } = spPayload.parse(e.payload);
    const r = await registerServiceProvider(saml, { metadataXml, settings, source: 'admin', actor: e.requester });
    if (r.changed) await saml.core.store.write((tx) => e.tell(tx));
    return { result: `service provider ${r.entityId} ${r.replaced ? 'replaced' : 'registered'}`, detail: { entityId: r.entityId, replaced: r.replaced, changed: r.changed } };
  });
}

/** Asks for the switch to a pending SAML key (waits for a second security officer once there are two). */
export async function requestSamlKeyStep(approvals: Approvals, saml: SamlDeps, actor: Actor, step: 'activation' | 'destroy', kid: string): Promise<RequestOutcome> {
  const key = (await saml.keys.keys()).find((k) => k.kid === kid);
  const needed = step === 'activation' ? 'pending' : 'retired';
  if (!key || key.state !== needed) throw new SamlAdminError('SAML_KEY_STATE', `SAML key ${kid} is ${key?.state ?? 'unknown'}; this step needs a ${needed} key.`);
  return approvals.request({
    kind: step === 'activation' ? 'saml-key-activation' : 'saml-key-destroy',
    actor,
    subjects: [],
    payload: { kid },
    summary: step === 'activation' ? `Switch SAML signing to key ${kid}` : `Destroy retired SAML key ${kid}`,
    items: [step === 'activation' ? `Key ${kid} signs the assertions; the active key retires` : `Key ${kid} leaves the HSM and the IdP metadata`],
  });
}

/** An org-admin registers or replaces an SP through the duties table (carried out at once, others told). */
export async function changeServiceProvider(
  approvals: Approvals,
  saml: SamlDeps,
  actor: Actor,
  input: { metadataXml: string; settings: { [key: string]: JsonValue } },
): Promise<Pick<RegisteredServiceProvider, 'entityId' | 'replaced' | 'changed'>> {
  // The mail to the other org-admins and security officers names the SP and where assertions go.
  let named: ServiceProvider | undefined;
  try {
    named = parseSpMetadata(input.metadataXml, { now: saml.core.clock.now() }).serviceProvider;
  } catch {
    named = undefined;
  }
  const asked = await approvals.request({
    kind: 'saml-sp-change',
    actor,
    subjects: [],
    payload: { metadataXml: input.metadataXml, settings: input.settings },
    summary: `SAML service provider ${named?.entityId ?? '(metadata to be checked)'} registered or replaced`,
    items: named ? [`Service provider ${named.entityId}`, ...named.assertionConsumerServices.map((a) => `Assertion consumer URL ${a.location}`)] : ['Metadata that is checked when carried out'],
  });
  if (asked.state !== 'done') throw new TypeError('a service-provider change never waits');
  const d = asked.outcome.detail ?? {};
  return { entityId: String(d['entityId']), replaced: d['replaced'] === true, changed: d['changed'] === true };
}
