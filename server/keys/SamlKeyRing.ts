/**
 * The IdP's SAML signing keys (issue 15): RSA (3072 bits by default) generated in the HSM, never
 * leaving it, each with its X.509 certificate, moving pending -> active -> retired -> destroyed
 * in the store (tx.saml.*Key, guarded like the token keys); a pending key nobody wants goes
 * pending -> destroyed (discard) without ever being active. A key's certificate is self-signed in
 * the HSM when it is made (test, development, or until the CA's arrives); a PKCS#10 request signed
 * in the HSM goes to a CA (OCES3) and the issued certificate is imported only if it certifies this
 * very key (hsm/x509 importCertificate). Metadata publishes the active and the pending key's
 * certificates, so that a rollover is: upload both, switch, upload the new one alone.
 *
 * Every change is audited in the transaction that makes it. HSM work happens before the write.
 *
 * Signing fails over between the tokens of the HSM group (HsmGroup.rsaSigner) when they hold
 * copies of the key (GATEWAY_HSM_KEY_POLICY=replicated, copied by the HSMs' own means); a new
 * key is generated on the signing token, like a new token key, and copied to the others there.
 */
import { randomBytes } from 'node:crypto';
import { generateRsaSigningKeyPair, type HsmGroup } from '../../hsm/index.js';
import type { RsaPkcs1Sha256Signer } from '../../hsm/rsaPkcs1Signer.js';
import { createCertificationRequest, createSelfSignedCertificate, importCertificate, type DistinguishedName } from '../../hsm/x509/index.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { SamlKeyRecord } from '../domain/saml.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/types.js';
import { NotFoundError, SamlAdminError, ServiceUnavailableError } from '../errors.js';
import { appendAudit } from '../flows/shared/audit.js';
import type { Logger } from '../logger.js';
import type { Store } from '../ports/store.js';
import type { SamlSigningKey } from '../saml/index.js';

export interface SamlKeyRingDeps {
  store: Store;
  hsm: HsmGroup;
  clock: Clock;
  config: Readonly<Config>;
  log: Logger;
}

/** The certificates metadata publishes: the active key's first (OIOSAML.Java takes the first valid one). */
export interface PublishedSamlCertificates {
  active: string;
  /** A pending key: published before it signs (rollover step 1). */
  next?: string;
  /** The key retired last, while it is still in the HSM (rollover step 2, until it is destroyed). */
  previous?: string;
}

/** The refusal of discarding the active key, saying what to do instead. */
export function activeKeyNotDiscarded(kid: string): SamlAdminError {
  return new SamlAdminError('SAML_KEY_STATE', `SAML key ${kid} is active and is not discarded: make another key active first, then destroy this one once it is retired.`);
}

export class SamlKeyRing {
  private readonly signers = new Map<string, Promise<RsaPkcs1Sha256Signer>>();

  constructor(private readonly deps: SamlKeyRingDeps) {}

  /**
   * The key's signer over the HSM group (hsm/HsmGroup.ts rsaSigner): a signature goes to the
   * first available token holding the key and fails over to the next when that token is lost,
   * as the token keys do (NSIS 6 (Low) 4, availability). `kid`, when the key's record is known:
   * a token holding another key under the CKA_ID is refused (NSIS 4.1.6 (Low) 3).
   */
  private signer(ckaId: string, kid?: string): Promise<RsaPkcs1Sha256Signer> {
    let s = this.signers.get(ckaId);
    if (!s) {
      s = this.deps.hsm.rsaSigner(ckaId, { profile: this.deps.config.hsm.keyPolicy, ...(kid === undefined ? {} : { expectedKid: kid }) });
      s.catch(() => this.signers.delete(ckaId));
      this.signers.set(ckaId, s);
    }
    return s;
  }

  private subject(kid: string): DistinguishedName {
    const { demo } = this.deps.config;
    return { country: 'DK', organization: demo.orgName, organizationIdentifier: `NTRDK-${demo.orgCvr}`, commonName: `Local IdP SAML ${kid.slice(0, 8)}` };
  }

  async keys(): Promise<SamlKeyRecord[]> {
    return this.deps.store.read((tx) => tx.saml.keys());
  }

  /**
   * A new pending key: generated in the HSM, self-signed there. It is published as the next key
   * at once and signs nothing until it is activated.
   */
  async generate(actor: Actor): Promise<SamlKeyRecord> {
    const { hsm, config, clock } = this.deps;
    const ckaId = randomBytes(16).toString('hex');
    await generateRsaSigningKeyPair(hsm.current(), { label: `saml-${ckaId.slice(0, 8)}`, ckaId, modulusBits: config.saml.keyBits, profile: config.hsm.keyPolicy });
    const signer = await this.signer(ckaId);
    const now = clock.now();
    const cert = await createSelfSignedCertificate(signer, {
      subject: this.subject(signer.kid),
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + config.saml.certificateDays * 86_400_000),
    });
    const record: SamlKeyRecord = { kid: signer.kid, ckaId, state: 'pending', certificatePem: cert.pem, createdAt: now.toISOString(), activatedAt: null, retiredAt: null, destroyedAt: null };
    await this.deps.store.write(async (tx) => {
      await tx.saml.insertKey(record);
      await appendAudit(tx, now.toISOString(), 'saml.key.generated', actor, signer.kid, { ckaId, bits: config.saml.keyBits, certificateSha256: importCertificate(cert.pem, signer.spki, now).sha256 });
    });
    return record;
  }

  /** At the gateway's first start with SAML on: one key, made and activated (as ensureInitialKey for tokens). */
  async ensureInitialKey(): Promise<void> {
    const keys = await this.keys();
    if (keys.some((k) => k.state === 'active' || k.state === 'pending')) return;
    const key = await this.generate(SYSTEM_ACTOR);
    await this.activate(key.kid, SYSTEM_ACTOR);
  }

  /** pending -> active; the previously active key is retired in the same transaction. */
  async activate(kid: string, actor: Actor): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    await this.deps.store.write(async (tx) => {
      const keys = await tx.saml.keys();
      const key = keys.find((k) => k.kid === kid);
      if (!key) throw new NotFoundError(`No SAML key ${kid}.`);
      const previous = keys.find((k) => k.state === 'active');
      if (previous && !(await tx.saml.retireKey(previous.kid, at))) throw new SamlAdminError('SAML_KEY_STATE', 'The active SAML key changed meanwhile.');
      if (!(await tx.saml.activateKey(kid, at))) throw new SamlAdminError('SAML_KEY_STATE', `SAML key ${kid} is not pending.`);
      await appendAudit(tx, at, 'saml.key.activated', actor, kid, { retired: previous?.kid ?? null });
    });
  }

  /**
   * retired -> destroyed: the key objects leave every token of the group first (each copy: the
   * key fails over between them), then the row says so. With a token unavailable this fails
   * (HSM_UNAVAILABLE) and the key stays retired, as for the token keys.
   */
  async destroy(kid: string, actor: Actor): Promise<void> {
    const key = (await this.keys()).find((k) => k.kid === kid);
    if (!key) throw new NotFoundError(`No SAML key ${kid}.`);
    if (key.state !== 'retired') throw new SamlAdminError('SAML_KEY_STATE', `SAML key ${kid} is ${key.state}; only a retired key is destroyed.`);
    await this.deps.hsm.destroyEverywhere(key.ckaId);
    this.signers.delete(key.ckaId);
    const at = this.deps.clock.now().toISOString();
    await this.deps.store.write(async (tx) => {
      if (!(await tx.saml.destroyKey(kid, at))) throw new SamlAdminError('SAML_KEY_STATE', `SAML key ${kid} changed meanwhile.`);
      await appendAudit(tx, at, 'saml.key.destroyed', actor, kid, { ckaId: key.ckaId });
    });
  }

  /**
   * pending -> destroyed, a key that never signed an assertion (discarded): NSIS 6 (Substantial) 11
   * asks for key management over the full life cycle, and a key nobody wants leaves the HSM without
   * ever becoming active. The row's guarded change (state = 'pending') and the destruction on every
   * token are ONE write: an activation racing with it either committed first (the guard refuses,
   * nothing is destroyed) or waits for this transaction and then finds the key not pending. With a
   * token unavailable it is refused before the write begins (503, with what to do; destroyEverywhere
   * would refuse too, destroying nothing, but from inside the write). activated_at and
   * retired_at stay empty and the audit event is saml.key.discarded: the record shows the key never
   * was active.
   */
  async discard(kid: string, actor: Actor): Promise<void> {
    const away = this.deps.hsm.tokens().filter((t) => t.status !== 'ok').map((t) => t.name);
    if (away.length > 0) throw new ServiceUnavailableError(`SAML key ${kid} is not discarded while HSM token(s) ${away.join(', ')} are unavailable: nothing was destroyed; ask again once they are back.`, 30);
    const at = this.deps.clock.now().toISOString();
    const ckaId = await this.deps.store.write(async (tx) => {
      const key = (await tx.saml.keys()).find((k) => k.kid === kid);
      if (!key) throw new NotFoundError(`No SAML key ${kid}.`);
      if (key.state === 'active') throw activeKeyNotDiscarded(kid);
      if (key.state !== 'pending') throw new SamlAdminError('SAML_KEY_STATE', `SAML key ${kid} is ${key.state}; only a pending key (one that never signed) is discarded.`);
      if (!(await tx.saml.discardKey(kid, at))) throw new SamlAdminError('SAML_KEY_STATE', `SAML key ${kid} changed meanwhile (it is no longer pending); nothing was discarded. Reload the keys.`);
      await this.deps.hsm.destroyEverywhere(key.ckaId);
      await appendAudit(tx, at, 'saml.key.discarded', actor, kid, { ckaId: key.ckaId, neverActive: true });
      return key.ckaId;
    });
    this.signers.delete(ckaId);
  }

  /** A PKCS#10 request for a CA (OCES3), signed in the HSM by the key itself. */
  async certificationRequest(kid: string, subject?: DistinguishedName): Promise<string> {
    const key = (await this.keys()).find((k) => k.kid === kid && (k.state === 'pending' || k.state === 'active'));
    if (!key) throw new NotFoundError(`No pending or active SAML key ${kid}.`);
    return (await createCertificationRequest(await this.signer(key.ckaId, key.kid), subject ?? this.subject(kid))).pem;
  }

  /** Stores a CA-issued certificate for a pending key; refused (X509Error) unless it certifies this key and is valid now. */
  async importCertificate(kid: string, pem: string, actor: Actor): Promise<void> {
    const key = (await this.keys()).find((k) => k.kid === kid);
    if (!key || key.state !== 'pending') throw new SamlAdminError('SAML_KEY_STATE', `A certificate is imported for a pending SAML key; ${kid} is ${key?.state ?? 'unknown'}.`);
    const now = this.deps.clock.now();
    const imported = importCertificate(pem, (await this.signer(key.ckaId, key.kid)).spki, now);
    await this.deps.store.write(async (tx) => {
      if (!(await tx.saml.setCertificate(kid, imported.pem))) throw new SamlAdminError('SAML_KEY_STATE', `SAML key ${kid} is no longer pending.`);
      await appendAudit(tx, now.toISOString(), 'saml.key.certificate-imported', actor, kid, { sha256: imported.sha256, issuer: imported.issuer, notAfter: imported.notAfter.toISOString() });
    });
  }

  /** The active key as the SAML module's signing port. */
  async activeKey(): Promise<SamlSigningKey & { kid: string }> {
    const active = (await this.keys()).find((k) => k.state === 'active');
    if (!active) throw new SamlAdminError('SAML_KEY_STATE', 'There is no active SAML signing key.');
    const signer = await this.signer(active.ckaId, active.kid);
    return { kid: active.kid, certificatePem: active.certificatePem, sign: (data) => signer.sign(data) };
  }

  /** The certificates the IdP metadata publishes now. */
  async published(): Promise<PublishedSamlCertificates> {
    const keys = await this.keys();
    const active = keys.find((k) => k.state === 'active');
    if (!active) throw new SamlAdminError('SAML_KEY_STATE', 'There is no active SAML signing key.');
    const next = keys.filter((k) => k.state === 'pending').pop();
    const previous = keys.filter((k) => k.state === 'retired').sort((a, b) => (a.retiredAt ?? '').localeCompare(b.retiredAt ?? '')).pop();
    return {
      active: active.certificatePem,
      ...(next ? { next: next.certificatePem } : {}),
      ...(previous ? { previous: previous.certificatePem } : {}),
    };
  }
}
