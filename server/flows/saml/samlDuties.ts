/**
 * The SAML identity provider's sensitive actions through the duties table (server/duties): the
 * SAML signing key's switch, its destruction and the discarding of a pending key wait for a second
 * security officer (NSIS 6 (Substantial) 11, the same two-person control as the token keys), and a
 * service provider's registration is carried out at once with every other org-admin and security
 * officer told.
 */
import { z } from 'zod';
import type { Approvals, Outcome, RequestOutcome } from '../../approvals/Approvals.js';
import type { JsonValue } from '../../audit/canonicalJson.js';
import type { Actor } from '../../domain/types.js';
import { GatewayError, NotFoundError, SamlAdminError } from '../../errors.js';
import { activeKeyNotDiscarded } from '../../keys/SamlKeyRing.js';
import { appendAudit } from '../shared/audit.js';
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
  approvals.register('saml-key-discard', async (e): Promise<Outcome> => {
    const { kid } = keyPayload.parse(e.payload);
    try {
      await saml.keys.discard(kid, e.requester);
    } catch (err) {
      // The key changed meanwhile (activated since the request): refused atomically, and audited
      // like a refusal at the API (the approval itself is marked failed by the mechanism).
      if (err instanceof GatewayError) await saml.core.store.write((tx) => appendAudit(tx, saml.core.clock.now().toISOString(), 'saml.key.change-refused', e.approver ?? e.requester, kid, { step: 'discard', code: err.code, approvalId: e.approvalId }));
      throw err;
    }
    await saml.core.store.write((tx) => e.tell(tx));
    return { result: `SAML key ${kid} discarded (never active)`, detail: { kid } };
  });
  approvals.register('saml-sp-change', async (e): Promise<Outcome> => {
    const { metadataXml, settings } = spPayload.parse(e.payload);
    const r = await registerServiceProvider(saml, { metadataXml, settings, source: 'admin', actor: e.requester });
    if (r.changed) await saml.core.store.write((tx) => e.tell(tx));
    return { result: `service provider ${r.entityId} ${r.replaced ? 'replaced' : 'registered'}`, detail: { entityId: r.entityId, replaced: r.replaced, changed: r.changed } };
  });
}

const STEPS = {
  activation: { kind: 'saml-key-activation', needs: 'pending', summary: 'Switch SAML signing to key', item: 'signs the assertions; the active key retires' },
  destroy: { kind: 'saml-key-destroy', needs: 'retired', summary: 'Destroy retired SAML key', item: 'leaves the HSM and the IdP metadata' },
  discard: { kind: 'saml-key-discard', needs: 'pending', summary: 'Discard pending SAML key', item: 'never signed; it leaves every HSM token and the IdP metadata without becoming active' },
} as const;
export type SamlKeyStep = keyof typeof STEPS;

/**
 * Asks for a step of a SAML key (waits for a second security officer once there are two; NSIS 6
 * (Substantial) 11). An unknown key is NotFound; a key in another state than the step needs is
 * SAML_KEY_STATE, saying what to do instead.
 */
export async function requestSamlKeyStep(approvals: Approvals, saml: SamlDeps, actor: Actor, step: SamlKeyStep, kid: string): Promise<RequestOutcome> {
  const key = (await saml.keys.keys()).find((k) => k.kid === kid);
  const { kind, needs, summary, item } = STEPS[step];
  if (!key) throw new NotFoundError(`No SAML key ${kid}.`);
  if (step === 'discard' && key.state === 'active') throw activeKeyNotDiscarded(kid);
  if (key.state !== needs) throw new SamlAdminError('SAML_KEY_STATE', `SAML key ${kid} is ${key.state}; this step needs a ${needs} key.`);
  return approvals.request({ kind, actor, subjects: [], payload: { kid }, summary: `${summary} ${kid}`, items: [`Key ${kid} ${item}`] });
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
