/**
 * URIs of SAML 2.0 (OASIS saml-core, saml-bindings, saml-metadata), XML-DSig,
 * XML-Enc 1.1 and the Danish OIOSAML 3 profile, in one place.
 */

export const NS = {
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  xenc11: 'http://www.w3.org/2009/xmlenc11#',
  xs: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

export const BINDING = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
} as const;

export const NAMEID_FORMAT = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  entity: 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;

export const ATTRNAME_FORMAT_URI = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';
export const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const SAML_VERSION = '2.0';

/** saml-core 3.2.2.2: top-level and second-level status codes. */
export const STATUS = {
  success: 'urn:oasis:names:tc:SAML:2.0:status:Success',
  requester: 'urn:oasis:names:tc:SAML:2.0:status:Requester',
  responder: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
  versionMismatch: 'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch',
  noPassive: 'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
  noAuthnContext: 'urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext',
  requestDenied: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
  invalidNameIdPolicy: 'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy',
  unsupportedBinding: 'urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding',
  partialLogout: 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout',
  authnFailed: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
} as const;
export type StatusUri = (typeof STATUS)[keyof typeof STATUS];

export const ALG = {
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha384: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  aes256Gcm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  aes128Gcm: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  aes256Cbc: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  rsaOaep11: 'http://www.w3.org/2009/xmlenc11#rsa-oaep',
  rsaOaepMgf1p: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  mgf1Sha256: 'http://www.w3.org/2009/xmlenc11#mgf1sha256',
} as const;

/** Signature algorithms accepted on requests from SPs (never SHA-1). */
export const ACCEPTED_SIGNATURE_ALGORITHMS: ReadonlyMap<string, 'sha256' | 'sha384' | 'sha512'> = new Map([
  [ALG.rsaSha256, 'sha256'],
  [ALG.rsaSha384, 'sha384'],
  [ALG.rsaSha512, 'sha512'],
]);

/** OIOSAML 3 attribute names and values (OIOSAML.Java Constants; OS2faktor NemLoginServiceProvider). */
export const OIOSAML = {
  specVersionName: 'https://data.gov.dk/model/core/specVersion',
  specVersion: 'OIO-SAML-3.0',
  loaName: 'https://data.gov.dk/concept/core/nsis/loa',
  cvrName: 'https://data.gov.dk/model/core/eid/professional/cvr',
  orgNameName: 'https://data.gov.dk/model/core/eid/professional/orgName',
  privilegesName: 'https://data.gov.dk/model/core/eid/privilegesIntermediate',
  /** AuthnContextClassRef of an assertion carrying an NSIS level. */
  nsisContextClass: 'https://data.gov.dk/concept/core/nsis',
  loaLow: 'https://data.gov.dk/concept/core/nsis/loa/Low',
  loaSubstantial: 'https://data.gov.dk/concept/core/nsis/loa/Substantial',
  loaHigh: 'https://data.gov.dk/concept/core/nsis/loa/High',
  profileProfessional: 'https://data.gov.dk/eid/Professional',
  profilePerson: 'https://data.gov.dk/eid/Person',
  nemLogInEntityId: 'https://saml.nemlog-in.dk',
} as const;
