/**
 * Validates an attestation certificate chain (x5c, leaf first) up to one of the trust anchors
 * the FIDO metadata names for the model, at a given time. Local only: no CRL or OCSP fetching
 * (revocation of models comes through the metadata's status reports).
 */
import { X509Certificate } from 'node:crypto';

function within(cert: X509Certificate, at: Date): boolean {
  return new Date(cert.validFrom) <= at && at <= new Date(cert.validTo);
}

export function chainsToAnchor(x5c: readonly Uint8Array[], anchorsBase64: readonly string[], at: Date): boolean {
  if (x5c.length === 0 || anchorsBase64.length === 0) return false;
  let chain: X509Certificate[];
  let anchors: X509Certificate[];
  try {
    chain = x5c.map((der) => new X509Certificate(Buffer.from(der)));
    anchors = anchorsBase64.map((b64) => new X509Certificate(Buffer.from(b64, 'base64')));
  } catch {
    return false;
  }
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i];
    if (!cert || !within(cert, at)) return false;
    const next = chain[i + 1];
    if (next && !(cert.checkIssued(next) && cert.verify(next.publicKey))) return false;
  }
  const top = chain[chain.length - 1];
  if (!top) return false;
  return anchors.some(
    (a) => within(a, at) && (a.fingerprint256 === top.fingerprint256 || (top.checkIssued(a) && top.verify(a.publicKey))),
  );
}
