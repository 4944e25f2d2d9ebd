/**
 * Registering a SAML service provider from its metadata (issue 15): by an org-admin with step-up
 * through the admin API (a file upload), or from the configuration file at start. The metadata is
 * validated by server/saml parseSpMetadata (endpoints, certificates of at least 2048 bits, the
 * signature checked against GATEWAY_SAML_METADATA_TRUST_FILE when the document is signed); the
 * record, the document as received and the per-SP settings are stored; every registration and
 * every refusal is audited.
 */
import { createHash } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import type { Actor } from '../../domain/types.js';
import { SamlAdminError, ValidationError } from '../../errors.js';
import { isSamlError, parseSpMetadata, type ServiceProvider } from '../../saml/index.js';
import { appendAudit } from '../shared/audit.js';
import type { SamlDeps } from './samlDeps.js';
import { SpSettingsSchema, type SpSettings } from './spSettings.js';

export interface RegisterServiceProviderInput {
  metadataXml: string;
  settings: unknown;
  source: 'config' | 'admin';
  actor: Actor;
}

export interface RegisteredServiceProvider {
  entityId: string;
  replaced: boolean;
  /** False when the same document and settings were registered already (nothing written). */
  changed: boolean;
  warnings: string[];
  serviceProvider: ServiceProvider;
  settings: SpSettings;
}

const certSha256 = (pem: string): string => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

export async function registerServiceProvider(deps: SamlDeps, input: RegisterServiceProviderInput): Promise<RegisteredServiceProvider> {
  const { core } = deps;
  const now = core.clock.now();
  const refuse = async (reason: string, detail: string, code?: string): Promise<never> => {
    const metadataSha256 = createHash('sha256').update(input.metadataXml, 'utf8').digest('hex');
    await core.store.write((tx) => appendAudit(tx, now.toISOString(), 'saml.sp.refused', input.actor, null, { reason, code: code ?? null, metadataSha256, source: input.source }));
    throw code ? new SamlAdminError('SAML_METADATA_REFUSED', detail, code) : new ValidationError(detail);
  };
  const settings = SpSettingsSchema.safeParse(input.settings ?? {});
  if (!settings.success) {
    const issue = settings.error.issues[0];
    return refuse('settings-invalid', `The SP settings are not valid: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  let parsed: ReturnType<typeof parseSpMetadata>;
  try {
    parsed = parseSpMetadata(input.metadataXml, { now, signatureCertificates: core.config.saml.metadataTrust });
  } catch (err) {
    if (isSamlError(err)) return refuse('metadata-invalid', `The metadata was refused: ${err.message}`, err.code);
    throw err;
  }
  const sp = parsed.serviceProvider;
  const settingsJson = JSON.stringify(settings.data);
  return core.store.write(async (tx) => {
    const existing = await tx.saml.serviceProvider(sp.entityId);
    const unchanged = existing !== undefined && existing.metadataXml === input.metadataXml && existing.settings === settingsJson && existing.source === input.source;
    const result = { entityId: sp.entityId, replaced: existing !== undefined, changed: !unchanged, warnings: parsed.warnings, serviceProvider: sp, settings: settings.data };
    if (unchanged) return result;
    await tx.saml.upsertServiceProvider({
      entityId: sp.entityId,
      serviceProvider: JSON.stringify(sp),
      settings: settingsJson,
      metadataXml: input.metadataXml,
      source: input.source,
      updatedBy: input.actor.identityId,
      createdAt: existing?.createdAt ?? now.toISOString(),
      updatedAt: now.toISOString(),
    });
    await appendAudit(tx, now.toISOString(), existing ? 'saml.sp.replaced' : 'saml.sp.registered', input.actor, sp.entityId, {
      source: input.source,
      metadataSha256: sp.metadataSha256,
      metadataSignatureVerified: sp.metadataSignatureVerified,
      assertionConsumerServices: sp.assertionConsumerServices.map((a) => a.location),
      singleLogoutServices: sp.singleLogoutServices.map((s) => s.location),
      signingCertificates: sp.signingCertificates.map(certSha256),
      encryptionCertificates: sp.encryptionCertificates.map(certSha256),
      settings: JSON.parse(settingsJson),
      warnings: parsed.warnings,
    });
    return result;
  });
}
