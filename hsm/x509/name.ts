/**
 * Distinguished names for the SAML signing certificate: the attributes a
 * Danish organisation certificate (OCES3) carries, in X.520 order.
 */
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { X509Error } from './errors.js';

export interface DistinguishedName {
  /** C, ISO 3166 two letters (PrintableString), e.g. "DK". */
  country?: string;
  /** O. */
  organization?: string;
  /** organizationIdentifier (X.520, 2.5.4.97), e.g. "NTRDK-12345678" for a CVR number (ETSI EN 319 412-1 5.1.4). */
  organizationIdentifier?: string;
  /** serialNumber (PrintableString). */
  serialNumber?: string;
  /** CN. Required. */
  commonName: string;
}

const OID = {
  country: '2.5.4.6',
  organization: '2.5.4.10',
  organizationIdentifier: '2.5.4.97',
  serialNumber: '2.5.4.5',
  commonName: '2.5.4.3',
} as const;

/** Attributes that are PrintableString by X.520; the others are UTF8String (RFC 5280 4.1.2.6). */
const PRINTABLE = new Set<keyof DistinguishedName>(['country', 'serialNumber', 'organizationIdentifier']);
const ORDER: readonly (keyof DistinguishedName)[] = ['country', 'organization', 'organizationIdentifier', 'serialNumber', 'commonName'];

function value(key: keyof DistinguishedName, text: string): AttributeValue {
  if (PRINTABLE.has(key)) {
    if (!/^[A-Za-z0-9 '()+,\-./:=?]+$/.test(text)) throw new X509Error('X509_BAD_REQUEST', `${key} must be a PrintableString, got "${text}"`);
    return new AttributeValue({ printableString: text });
  }
  return new AttributeValue({ utf8String: text });
}

/** One attribute per RDN, in the order C, O, organizationIdentifier, serialNumber, CN. */
export function toName(dn: DistinguishedName): Name {
  if (!dn.commonName || dn.commonName.length > 64) throw new X509Error('X509_BAD_REQUEST', 'commonName must have 1 to 64 characters');
  if (dn.country !== undefined && !/^[A-Z]{2}$/.test(dn.country)) throw new X509Error('X509_BAD_REQUEST', 'country must be two capital letters');
  const rdns: RelativeDistinguishedName[] = [];
  for (const key of ORDER) {
    const text = dn[key];
    if (text === undefined) continue;
    if (text.length === 0) throw new X509Error('X509_BAD_REQUEST', `${key} must not be empty`);
    rdns.push(new RelativeDistinguishedName([new AttributeTypeAndValue({ type: OID[key], value: value(key, text) })]));
  }
  return new Name(rdns);
}
