/** PEM armour (RFC 7468) for DER structures: certificates and certification requests. */
export type PemLabel = 'CERTIFICATE' | 'CERTIFICATE REQUEST';

/** RFC 7468 2: base64 lines of 64 characters between the boundaries. */
export function toPem(der: Uint8Array, label: PemLabel): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** The DER inside the first PEM block with this label, or undefined when there is none. */
export function fromPem(pem: string, label: PemLabel): Uint8Array | undefined {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!match?.[1]) return undefined;
  return new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
}
