/**
 * Verifies a FIDO MDS3 BLOB (FIDO Metadata Service 3.0, 3.1.8 "Metadata BLOB object processing
 * rules") at an injected time, without the network:
 *   1. the x5c header chains to a configured root and every certificate is valid at `now`;
 *   2. the JWS signature verifies with the leaf certificate's key;
 *   3. the payload is an MDS3 BLOB and nextUpdate is still in the future at `now`.
 * Revocation of the chain (CRLs) is not checked: that needs the network.
 */
import type { X509Certificate } from 'node:crypto';
import { compactVerify } from 'jose';
import { parseRoots, parseX5c, validatePath } from './certificates.js';
import { normalizeAaguid, toEntry, type Entry } from './entry.js';
import { MdsError } from './errors.js';
import { blobPayloadSchema, jwsHeaderSchema, type JwsHeader } from './schema.js';

/** The MDS spec allows RS256/ES256 (and the like); never 'none' or HMAC. */
export const MDS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

export interface VerifyBlobOptions {
  /** DER trust anchors (for the FIDO Alliance: GlobalSign Root CA - R3). */
  roots: readonly Uint8Array[];
  now: Date;
}

export interface VerifiedBlob {
  /** The BLOB's serial number (`no`); a newer BLOB has a greater number. */
  readonly number: number;
  /** nextUpdate (YYYY-MM-DD) as UTC midnight: the BLOB is refused from that instant on. */
  readonly nextUpdate: Date;
  readonly legalHeader: string;
  /** All entries of the BLOB, including those without an AAGUID (U2F, UAF). */
  readonly totalEntries: number;
  /** FIDO2 entries by lower-case dashed AAGUID. */
  readonly entries: ReadonlyMap<string, Entry>;
  /** Subject of the signing (leaf) certificate. */
  readonly signer: string;
}

const MAX_BLOB_CHARS = 64 * 1024 * 1024;

function decodeHeader(jwt: string): JwsHeader {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || parts[0] === '' || parts[2] === '') {
    throw new MdsError('MDS_MALFORMED', 'not a JWS in compact serialization');
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8'));
  } catch (err) {
    throw new MdsError('MDS_MALFORMED', 'the JWS header is not JSON', { cause: err });
  }
  const header = jwsHeaderSchema.safeParse(json);
  if (!header.success) throw new MdsError('MDS_MALFORMED', `the JWS header is not an MDS header: ${header.error.message}`);
  return header.data;
}

export async function verifyBlob(jwt: string, opts: VerifyBlobOptions): Promise<VerifiedBlob> {
  const now = opts.now;
  if (!(now instanceof Date) || !Number.isFinite(now.getTime())) throw new TypeError('verifyBlob: opts.now must be a valid Date');
  const roots = parseRoots(opts.roots);
  if (typeof jwt !== 'string' || jwt.length > MAX_BLOB_CHARS) throw new MdsError('MDS_MALFORMED', 'the BLOB is not a string of acceptable size');
  const compact = jwt.trim();

  // 1. The certificate path, at `now`.
  const header = decodeHeader(compact);
  const { chain } = validatePath(parseX5c(header.x5c), roots, now);
  const leaf = chain[0] as X509Certificate;

  // 2. The signature, with the leaf's key, before anything of the payload is read.
  let payloadBytes: Uint8Array;
  try {
    const verified = await compactVerify(compact, leaf.publicKey, { algorithms: MDS_ALGORITHMS });
    payloadBytes = verified.payload;
  } catch (err) {
    throw new MdsError('MDS_SIGNATURE_INVALID', `the BLOB signature does not verify with ${leaf.subject.replace(/\n/g, ', ')}`, { cause: err });
  }

  // 3. The payload.
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
  } catch (err) {
    throw new MdsError('MDS_MALFORMED', 'the BLOB payload is not JSON', { cause: err });
  }
  const parsed = blobPayloadSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new MdsError('MDS_MALFORMED', `the BLOB payload is not an MDS3 payload: ${first ? `${first.path.join('.')}: ${first.message}` : parsed.error.message}`);
  }
  const payload = parsed.data;

  const nextUpdate = new Date(`${payload.nextUpdate}T00:00:00Z`);
  if (!Number.isFinite(nextUpdate.getTime())) throw new MdsError('MDS_MALFORMED', `nextUpdate ${payload.nextUpdate} is not a date`);
  if (now.getTime() >= nextUpdate.getTime()) {
    throw new MdsError('MDS_EXPIRED', `BLOB no. ${payload.no} expired: nextUpdate ${payload.nextUpdate} is not after ${now.toISOString()}`);
  }

  const entries = new Map<string, Entry>();
  for (const [i, raw] of payload.entries.entries()) {
    if (raw.aaguid === undefined) continue;
    const aaguid = normalizeAaguid(raw.aaguid);
    const statementAaguid = raw.metadataStatement?.aaguid === undefined ? aaguid : normalizeAaguid(raw.metadataStatement.aaguid);
    if (aaguid === null || statementAaguid !== aaguid) {
      throw new MdsError('MDS_MALFORMED', `entries[${i}]: the entry's AAGUID and its metadata statement's differ`);
    }
    // Two entries for one AAGUID would leave it open which status applies.
    if (entries.has(aaguid)) throw new MdsError('MDS_MALFORMED', `entries[${i}]: AAGUID ${aaguid} appears more than once`);
    entries.set(aaguid, toEntry({ ...raw, aaguid }));
  }

  return Object.freeze({
    number: payload.no,
    nextUpdate,
    legalHeader: payload.legalHeader ?? '',
    totalEntries: payload.entries.length,
    entries,
    signer: leaf.subject.replace(/\n/g, ', '),
  });
}
