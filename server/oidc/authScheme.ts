/**
 * The credentials of an Authorization header for one scheme. RFC 7235 §2.1: the auth-scheme is a
 * case-insensitive token, separated from its credentials by one or more spaces; so `Basic`,
 * `basic` and `BASIC` are one scheme (RFC 7617 Basic, RFC 6750 §2.1 Bearer).
 */
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(\S.*)$/;

export function credentialsFor(header: string | undefined, scheme: 'basic' | 'bearer'): string | undefined {
  const m = header === undefined ? null : CREDENTIALS.exec(header.trim());
  if (!m || m[1]?.toLowerCase() !== scheme) return undefined;
  return m[2]?.trim();
}
