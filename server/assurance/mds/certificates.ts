/**
 * Certificate path validation for the BLOB's x5c header (FIDO MDS 3.0 3.1.8 step 4), against
 * an injected time. Implemented with node:crypto rather than simplewebauthn's
 * validateCertificatePath, which reads the real clock (Date.now()), fetches CRLs over the network
 * and silently accepts any chain when no trust anchor is configured.
 *
 * Checked: each certificate is issued (name + key identifiers) and signed by the next one, every
 * certificate above the leaf is a CA, the topmost certificate is, or is signed by, one of the
 * configured roots, and every certificate of the path (the root included) is valid at `now`.
 * Not checked: revocation (CRLs need the network; the gateway runs offline), name constraints.
 */
import { X509Certificate } from 'node:crypto';
import { MdsError } from './errors.js';

export interface ValidatedPath {
  /** x5c certificates, leaf first. */
  chain: X509Certificate[];
  /** The configured root the path ends at. */
  root: X509Certificate;
}

/** Parses DER trust anchors; a root that cannot be parsed is a configuration error (TypeError). */
export function parseRoots(roots: readonly Uint8Array[]): X509Certificate[] {
  if (roots.length === 0) throw new TypeError('MDS: at least one trust anchor (root certificate) must be configured');
  return roots.map((der, i) => {
    try {
      return new X509Certificate(der);
    } catch (err) {
      throw new TypeError(`MDS: trust anchor #${i} is not a DER X.509 certificate`, { cause: err });
    }
  });
}

/** Parses the x5c header values (base64 DER). */
export function parseX5c(x5c: readonly string[]): X509Certificate[] {
  return x5c.map((b64, i) => {
    try {
      return new X509Certificate(Buffer.from(b64, 'base64'));
    } catch (err) {
      throw new MdsError('MDS_MALFORMED', `x5c[${i}] is not an X.509 certificate`, { cause: err });
    }
  });
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function label(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ');
}

function assertValidAt(cert: X509Certificate, now: Date): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw new MdsError('MDS_MALFORMED', `unreadable validity period in certificate ${label(cert)}`);
  }
  const t = now.getTime();
  if (t < from || t > to) {
    throw new MdsError(
      'MDS_EXPIRED',
      `certificate ${label(cert)} is not valid at ${now.toISOString()} (valid ${new Date(from).toISOString()} to ${new Date(to).toISOString()})`,
    );
  }
}

/**
 * Validates `chain` (leaf first) up to one of `roots` at `now`.
 * Throws MdsError MDS_CHAIN_INVALID (broken chain, unknown root) or MDS_EXPIRED (validity).
 */
export function validatePath(chain: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date): ValidatedPath {
  const leaf = chain[0];
  if (leaf === undefined) throw new MdsError('MDS_MALFORMED', 'x5c is empty');

  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    if (!issuer.ca) throw new MdsError('MDS_CHAIN_INVALID', `x5c[${i + 1}] (${label(issuer)}) is not a CA certificate`);
    if (!signedBy(cert, issuer)) {
      throw new MdsError('MDS_CHAIN_INVALID', `x5c[${i}] (${label(cert)}) is not issued and signed by x5c[${i + 1}]`);
    }
  }

  const top = chain[chain.length - 1] as X509Certificate;
  const topDer = top.raw;
  const root =
    roots.find((r) => r.raw.equals(topDer)) ?? roots.find((r) => r.ca && signedBy(top, r));
  if (root === undefined) {
    throw new MdsError('MDS_CHAIN_INVALID', `x5c does not chain to a configured root (top: ${label(top)}, issuer: ${top.issuer.replace(/\n/g, ', ')})`);
  }

  const path = root.raw.equals(topDer) ? chain : [...chain, root];
  for (const cert of path) assertValidAt(cert, now);
  return { chain: [...chain], root };
}
