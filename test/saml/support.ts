/**
 * Shared set-up of the SAML tests: the IdP's signing keys on the real
 * SoftHSM token with certificates the token signed, an independent SP
 * (@node-saml/node-saml) with its own keys and certificates, and a replay
 * store as a caller would provide it.
 */
import { type KeyObject, createPrivateKey, generateKeyPair, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { HsmConnection, destroyKeyPair, generateRsaSigningKeyPair } from '../../hsm/index.js';
import { createRsaPkcs1Sha256Signer } from '../../hsm/rsaPkcs1Signer.js';
import { type CertificateSigner, createSelfSignedCertificate } from '../../hsm/x509/index.js';
import type { ReplayStore, SamlSigningKey } from '../../server/saml/index.js';
import { NAMEID_FORMAT, OIOSAML, parseSpMetadata, type ServiceProvider } from '../../server/saml/index.js';
import { testHsmConfig, uniqueLabel } from '../hsm/helpers.js';

export const IDP_ENTITY_ID = 'https://idp.example.dk/saml';
export const SSO_URL = 'https://idp.example.dk/saml/sso';
export const SLO_URL = 'https://idp.example.dk/saml/slo';
export const SP_ENTITY_ID = 'https://sp.example.dk/metadata';
export const ACS_URL = 'https://sp.example.dk/acs';
export const SP_SLO_URL = 'https://sp.example.dk/slo';

export interface IdpKeys {
  connection: HsmConnection;
  keys: SamlSigningKey[];
  close(): Promise<void>;
}

/** `count` RSA 3072 keys generated on the token, each with a self-signed certificate the token signed. */
export async function openIdpKeys(count: number): Promise<IdpKeys> {
  const connection = await HsmConnection.open(testHsmConfig());
  const created: string[] = [];
  const keys: SamlSigningKey[] = [];
  for (let i = 0; i < count; i += 1) {
    const ref = await generateRsaSigningKeyPair(connection, { label: uniqueLabel(`saml-idp-${i}`) });
    created.push(ref.ckaId);
    const signer = await createRsaPkcs1Sha256Signer(connection, ref.ckaId);
    const now = new Date();
    const cert = await createSelfSignedCertificate(signer, {
      subject: { country: 'DK', organization: 'Testkommune', organizationIdentifier: 'NTRDK-12345674', commonName: `Lokal IdP ${i}` },
      notBefore: new Date(now.getTime() - 3600_000),
      notAfter: new Date(now.getTime() + 365 * 86400_000),
    });
    keys.push({ certificatePem: cert.pem, sign: (data) => signer.sign(data) });
  }
  return {
    connection,
    keys,
    async close() {
      for (const ckaId of created) await destroyKeyPair(connection, ckaId);
      await connection.close();
    },
  };
}

/** A software key with a certificate (for the SP side, which is not ours). */
const generateRsaKeyPair = promisify(generateKeyPair);

export async function softwareKey(commonName: string): Promise<{ privateKeyPem: string; certificatePem: string; key: KeyObject }> {
  // Asynchronously: a synchronous RSA generation blocks an in-process gateway's event loop for
  // seconds on a loaded machine, and its kept-alive sockets then expire under the next fetch.
  const { privateKey, publicKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
  const signer: CertificateSigner = {
    spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    sign: async (data) => new Uint8Array(sign('sha256', data, privateKey)),
  };
  const now = new Date();
  const cert = await createSelfSignedCertificate(signer, { subject: { commonName }, notBefore: new Date(now.getTime() - 3600_000), notAfter: new Date(now.getTime() + 86400_000 * 30) });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certificatePem: cert.pem, key: createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })) };
}

export interface TestSp {
  saml: SAML;
  metadataXml: string;
  serviceProvider: ServiceProvider;
  signing: Awaited<ReturnType<typeof softwareKey>>;
  encryption: Awaited<ReturnType<typeof softwareKey>>;
}

/** An independent SP (node-saml): signs its AuthnRequests, decrypts and validates our responses. */
export async function makeSp(idpCertificates: string[], options: { binding?: 'HTTP-POST' | 'HTTP-Redirect'; authnContext?: string[]; forceAuthn?: boolean; passive?: boolean } = {}): Promise<TestSp> {
  const signing = await softwareKey('Test SP signing');
  const encryption = await softwareKey('Test SP encryption');
  const saml = new SAML({
    entryPoint: SSO_URL,
    // saml-bindings 3.5.4: the POST binding carries the XML base64-encoded, not deflated.
    skipRequestCompression: options.binding === 'HTTP-POST',
    issuer: SP_ENTITY_ID,
    callbackUrl: ACS_URL,
    logoutUrl: SLO_URL,
    logoutCallbackUrl: SP_SLO_URL,
    idpCert: idpCertificates,
    idpIssuer: IDP_ENTITY_ID,
    audience: SP_ENTITY_ID,
    privateKey: signing.privateKeyPem,
    publicCert: signing.certificatePem,
    decryptionPvk: encryption.privateKeyPem,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    identifierFormat: NAMEID_FORMAT.persistent,
    authnRequestBinding: options.binding ?? 'HTTP-Redirect',
    authnContext: options.authnContext ?? [OIOSAML.loaSubstantial],
    racComparison: 'minimum',
    forceAuthn: options.forceAuthn ?? false,
    passive: options.passive ?? false,
    validateInResponseTo: ValidateInResponseTo.always,
    acceptedClockSkewMs: 60_000,
  });
  const metadataXml = saml.generateServiceProviderMetadata(encryption.certificatePem, signing.certificatePem);
  const { serviceProvider } = parseSpMetadata(metadataXml, { now: new Date() });
  return { saml, metadataXml, serviceProvider, signing, encryption };
}

/** A replay store as the caller's store provides it (single use by key). */
export class MemoryReplayStore implements ReplayStore {
  readonly seen = new Map<string, Date>();
  async consume(key: string, notOnOrAfter: Date): Promise<boolean> {
    if (this.seen.has(key)) return false;
    this.seen.set(key, notOnOrAfter);
    return true;
  }
}

/** The raw query string of a redirect URL, exactly as a browser would send it. */
export function rawQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/** The hidden fields of node-saml's auto-submit form. */
export function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[m[1] ?? ''] = (m[2] ?? '').replace(/&#x2F;/g, '/').replace(/&#x3D;/g, '=').replace(/&#x2B;/g, '+').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  }
  return fields;
}
