/**
 * SP metadata (saml-metadata 2.3.2, 2.4.4) -> a validated, typed record of
 * the service provider: entityID, ACS and SLO endpoints with bindings,
 * signing and encryption certificates, md:EncryptionMethod preferences and
 * NameID formats. When the document is signed, its signature is checked
 * against the configured trust anchors (NemLog-in's metadata file is
 * delivered signed). Everything the IdP later trusts about an SP comes from
 * this record.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { z } from 'zod';
import { ALG, BINDING, NS } from './constants.js';
import { SamlError } from './errors.js';
import { attr, booleanAttr, childrenNs, descendantsNs, textOf } from './xml/dom.js';
import { parseXml } from './xml/parse.js';
import { verifyEnveloped } from './xml/verifyEnveloped.js';

const url = z.string().url().max(2048).refine((u) => /^https?:\/\//.test(u), 'an http(s) URL');
const pemCertificate = z.string().startsWith('-----BEGIN CERTIFICATE-----');

export const EndpointSchema = z.object({ binding: z.string().min(1), location: url, responseLocation: url.optional() });
export const IndexedEndpointSchema = EndpointSchema.extend({ index: z.number().int().min(0).max(65535), isDefault: z.boolean() });

/** The service provider as the IdP knows it from its metadata. */
export const ServiceProviderSchema = z.object({
  entityId: z.string().min(1).max(1024),
  assertionConsumerServices: z.array(IndexedEndpointSchema).min(1),
  singleLogoutServices: z.array(EndpointSchema),
  /** PEM, metadata order: AuthnRequest and LogoutRequest signatures are tried against each. */
  signingCertificates: z.array(pemCertificate).min(1),
  /** PEM, metadata order: the first is used to encrypt assertions. */
  encryptionCertificates: z.array(pemCertificate).min(1),
  /** md:EncryptionMethod Algorithm values of the encryption KeyDescriptor, in order. */
  encryptionMethods: z.array(z.string()),
  nameIdFormats: z.array(z.string()),
  authnRequestsSigned: z.boolean(),
  wantAssertionsSigned: z.boolean(),
  validUntil: z.string().datetime().optional(),
  /** Hex SHA-256 of the metadata document as received. */
  metadataSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Whether a signature on the document was verified against a trust anchor. */
  metadataSignatureVerified: z.boolean(),
});
export type ServiceProvider = z.infer<typeof ServiceProviderSchema>;
export type Endpoint = z.infer<typeof EndpointSchema>;
export type IndexedEndpoint = z.infer<typeof IndexedEndpointSchema>;

export interface ParseSpMetadataOptions {
  now: Date;
  /** Trust anchors (PEM) for signed metadata. */
  signatureCertificates?: readonly string[];
  /** Refuse unsigned metadata (default false: an org-admin upload of an unsigned file is allowed). */
  requireSignature?: boolean;
  /** Smallest accepted RSA modulus of SP certificates (default 2048). */
  minRsaBits?: number;
}

export interface ParsedSpMetadata {
  serviceProvider: ServiceProvider;
  /** Things an administrator should see (skipped expired certificates, unchecked signature...). */
  warnings: string[];
}

const MAX_METADATA_BYTES = 1024 * 1024;

function invalid(message: string): SamlError {
  return new SamlError('SAML_METADATA_INVALID', message);
}

function pemOf(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

function readCertificates(keyDescriptor: Element, options: ParseSpMetadataOptions, warnings: string[]): string[] {
  const out: string[] = [];
  for (const cert of descendantsNs(keyDescriptor, NS.ds, 'X509Certificate')) {
    const der = Buffer.from(textOf(cert).replace(/\s+/g, ''), 'base64');
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(der);
    } catch (err) {
      throw new SamlError('SAML_METADATA_INVALID', 'a ds:X509Certificate is not a certificate', { cause: err });
    }
    const details = x509.publicKey.asymmetricKeyDetails;
    if (x509.publicKey.asymmetricKeyType !== 'rsa' || (details?.modulusLength ?? 0) < (options.minRsaBits ?? 2048)) {
      throw invalid(`certificate ${x509.subject} is not an RSA key of at least ${options.minRsaBits ?? 2048} bits`);
    }
    if (new Date(x509.validTo).getTime() < options.now.getTime()) {
      warnings.push(`skipped expired certificate ${x509.subject} (valid to ${x509.validTo})`);
      continue;
    }
    out.push(pemOf(der));
  }
  return out;
}

function endpoint(el: Element): Endpoint {
  const parsed = EndpointSchema.safeParse({ binding: attr(el, 'Binding'), location: attr(el, 'Location'), responseLocation: attr(el, 'ResponseLocation') });
  if (!parsed.success) throw invalid(`<${el.localName}> has an invalid Binding or Location`);
  return parsed.data;
}

/**
 * Parses and validates SP metadata. Throws SamlError SAML_METADATA_INVALID,
 * SAML_METADATA_SIGNATURE_INVALID, or the XML refusals of parseXml.
 */
export function parseSpMetadata(xml: string, options: ParseSpMetadataOptions): ParsedSpMetadata {
  const warnings: string[] = [];
  const doc = parseXml(xml, { maxBytes: MAX_METADATA_BYTES, maxDepth: 40, maxElements: 20000 });
  let root: Element = doc.documentElement;
  if (root.namespaceURI !== NS.md || root.localName !== 'EntityDescriptor') throw invalid(`expected <md:EntityDescriptor>, got <${root.localName}>`);

  let signatureVerified = false;
  const signed = childrenNs(root, NS.ds, 'Signature').length > 0;
  if (signed && options.signatureCertificates && options.signatureCertificates.length > 0) {
    try {
      root = verifyEnveloped(xml, doc, { ns: NS.md, localName: 'EntityDescriptor' }, options.signatureCertificates, {
        maxBytes: MAX_METADATA_BYTES,
        maxDepth: 40,
        maxElements: 20000,
      }).element;
    } catch (err) {
      throw new SamlError('SAML_METADATA_SIGNATURE_INVALID', 'the metadata signature does not verify against the trust anchors', { cause: err });
    }
    signatureVerified = true;
  } else if (signed) {
    warnings.push('the metadata is signed but no trust anchor is configured: its signature was not checked');
  }
  if (options.requireSignature && !signatureVerified) throw new SamlError('SAML_METADATA_SIGNATURE_INVALID', 'signed metadata is required');

  const entityId = attr(root, 'entityID');
  if (!entityId) throw invalid('no entityID');
  const validUntil = attr(root, 'validUntil');
  if (validUntil !== undefined) {
    const until = new Date(validUntil);
    if (Number.isNaN(until.getTime())) throw invalid(`validUntil is not a date: ${validUntil}`);
    if (until.getTime() <= options.now.getTime()) throw invalid(`the metadata expired at ${validUntil}`);
  }
  const descriptors = childrenNs(root, NS.md, 'SPSSODescriptor');
  if (descriptors.length !== 1) throw invalid(`${descriptors.length} SPSSODescriptor elements, exactly one is needed`);
  const sp = descriptors[0] as Element;
  if (!(attr(sp, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(NS.samlp)) throw invalid('the SP does not support SAML 2.0');

  const signing: string[] = [];
  const encryption: string[] = [];
  const encryptionMethods: string[] = [];
  for (const kd of childrenNs(sp, NS.md, 'KeyDescriptor')) {
    const use = attr(kd, 'use');
    if (use !== undefined && use !== 'signing' && use !== 'encryption') throw invalid(`KeyDescriptor use="${use}"`);
    const certs = readCertificates(kd, options, warnings);
    if (use !== 'encryption') signing.push(...certs);
    if (use !== 'signing') {
      encryption.push(...certs);
      for (const m of childrenNs(kd, NS.md, 'EncryptionMethod')) {
        const algorithm = attr(m, 'Algorithm');
        if (algorithm) encryptionMethods.push(algorithm);
      }
    }
  }
  if (signing.length === 0) throw invalid('no valid signing certificate: AuthnRequests must be signed');
  if (encryption.length === 0) throw invalid('no valid encryption certificate: OIOSAML 3 assertions are encrypted');

  const acs = childrenNs(sp, NS.md, 'AssertionConsumerService').map((el) => {
    const index = Number(attr(el, 'index'));
    if (!Number.isInteger(index) || index < 0) throw invalid('an AssertionConsumerService has no valid index');
    return { ...endpoint(el), index, isDefault: booleanAttr(el, 'isDefault') ?? false };
  });
  if (new Set(acs.map((a) => a.index)).size !== acs.length) throw invalid('two AssertionConsumerService elements share an index');
  if (!acs.some((a) => a.binding === BINDING.post)) throw invalid('no AssertionConsumerService with the HTTP-POST binding');

  const parsed = ServiceProviderSchema.safeParse({
    entityId,
    assertionConsumerServices: acs,
    singleLogoutServices: childrenNs(sp, NS.md, 'SingleLogoutService').map(endpoint),
    signingCertificates: signing,
    encryptionCertificates: encryption,
    encryptionMethods,
    nameIdFormats: childrenNs(sp, NS.md, 'NameIDFormat').map(textOf),
    authnRequestsSigned: booleanAttr(sp, 'AuthnRequestsSigned') ?? false,
    wantAssertionsSigned: booleanAttr(sp, 'WantAssertionsSigned') ?? false,
    validUntil: validUntil === undefined ? undefined : new Date(validUntil).toISOString(),
    metadataSha256: createHash('sha256').update(xml, 'utf8').digest('hex'),
    metadataSignatureVerified: signatureVerified,
  });
  if (!parsed.success) throw new SamlError('SAML_METADATA_INVALID', `the metadata does not describe a usable SP: ${parsed.error.issues[0]?.message ?? ''}`);
  if (!parsed.data.authnRequestsSigned) warnings.push('AuthnRequestsSigned is not "true"; the IdP requires signed AuthnRequests anyway');
  if (encryptionMethods.length > 0 && !encryptionMethods.some((m) => m === ALG.aes256Gcm || m === ALG.rsaOaep11)) {
    warnings.push('the SP asks for legacy encryption (AES-CBC / rsa-oaep-mgf1p) only');
  }
  return { serviceProvider: parsed.data, warnings };
}
