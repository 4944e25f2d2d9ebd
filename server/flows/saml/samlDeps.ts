/**
 * What the SAML identity provider's flows (issue 15) are given, and the helpers they share: the
 * service-provider lookup and replay store over the store port, the policy from the
 * configuration, and the broker log into the audit chain (NSIS 6 (Low) 7).
 */
import type { JsonValue } from '../../audit/canonicalJson.js';
import { minLevel } from '../../assurance/levels.js';
import type { Actor, AssuranceLevel } from '../../domain/types.js';
import type { SamlKeyRing } from '../../keys/SamlKeyRing.js';
import type { ReadTx, WriteTx } from '../../ports/store.js';
import { type AuthnRequestPolicy, type BrokerLogEntry, type ReplayStore, type ServiceProvider, ServiceProviderSchema } from '../../saml/index.js';
import type { CoreDeps } from '../deps.js';
import type { SessionView } from '../sessions/resolveSession.js';
import { appendAudit, type AuditData } from '../shared/audit.js';
import { SpSettingsSchema, type SpSettings } from './spSettings.js';

export interface SamlDeps {
  core: CoreDeps;
  keys: SamlKeyRing;
}

/** The IdP's endpoints, from the configured origin. */
export function idpUrls(deps: SamlDeps): { sso: string; slo: string; metadata: string } {
  const origin = deps.core.config.origin;
  return { sso: `${origin}/saml/sso`, slo: `${origin}/saml/slo`, metadata: `${origin}/saml/metadata` };
}

export function idpEntityId(deps: SamlDeps): string {
  return deps.core.config.saml.entityId;
}

export function authnRequestPolicy(deps: SamlDeps, extraNameIdFormats: readonly string[] = []): AuthnRequestPolicy {
  const { sso } = idpUrls(deps);
  return {
    idpEntityId: idpEntityId(deps),
    ssoUrls: { redirect: sso, post: sso },
    idpLevel: deps.core.config.federationLevel,
    maxAgeSeconds: deps.core.config.saml.requestMaxAgeSeconds,
    extraNameIdFormats,
  };
}

/** A registered SP with its settings, read back with their schemas (never cast). */
export interface RegisteredSp {
  serviceProvider: ServiceProvider;
  settings: SpSettings;
}

export async function registeredSp(tx: ReadTx, entityId: string): Promise<RegisteredSp | undefined> {
  const row = await tx.saml.serviceProvider(entityId);
  if (!row) return undefined;
  return { serviceProvider: ServiceProviderSchema.parse(JSON.parse(row.serviceProvider)), settings: SpSettingsSchema.parse(JSON.parse(row.settings)) };
}

/** The service-provider lookup of server/saml, over the store. */
export function spLookup(deps: SamlDeps): (entityId: string) => Promise<ServiceProvider | undefined> {
  return async (entityId) => {
    const sp = await deps.core.store.read((tx) => registeredSp(tx, entityId));
    // Issue 16: a disabled SP is not a party the IdP answers (its requests are refused, audited).
    return sp && !sp.settings.disabled ? sp.serviceProvider : undefined;
  };
}

/** Message IDs are single use across every process and instance (saml-profiles 4.1.4.5), durably. */
export function replayStore(deps: SamlDeps): ReplayStore {
  return { consume: (key, notOnOrAfter) => deps.core.store.write((tx) => tx.saml.useMessageId(key, notOnOrAfter.toISOString())) };
}

/** The level a session reached: the minimum of the identity's, the key's and the broker's own (as the OIDC tokens). */
export function sessionLevel(deps: SamlDeps, view: SessionView): AssuranceLevel {
  return minLevel(view.identity.ial, view.session.aal, deps.core.config.federationLevel);
}

function toJson(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => toJson(v) ?? null);
  if (typeof value === 'object') {
    const out: { [k: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) {
      const j = toJson(v);
      if (j !== undefined) out[k] = j;
    }
    return out;
  }
  return String(value);
}

/**
 * NSIS 6 (Low) 7: a broker-log entry (IDs, issuer, destination, status, attributes released, the
 * assertion's SHA-256; never the assertion) in the audit chain, in a transaction of its own.
 */
export async function auditBroker(deps: SamlDeps, type: string, actor: Actor, entry: BrokerLogEntry, extra: AuditData = {}): Promise<void> {
  await deps.core.store.write((tx) => auditBrokerIn(deps, tx, type, actor, entry, extra));
}

/** The same, inside a caller's transaction (with the change it records). */
export async function auditBrokerIn(deps: SamlDeps, tx: WriteTx, type: string, actor: Actor, entry: BrokerLogEntry, extra: AuditData = {}): Promise<void> {
  await appendAudit(tx, deps.core.clock.now().toISOString(), type, actor, entry.issuer ?? null, { ...extra, saml: toJson(entry) ?? null });
}
