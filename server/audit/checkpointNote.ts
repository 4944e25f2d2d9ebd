/**
 * An audit checkpoint as a C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): a signed note
 * whose text is
 *
 *     <origin>                        e.g. idp.example.dk/audit (the gateway origin's host + /audit)
 *     <size>                          the sequence number of the chain head = entries ever appended
 *     <root>                          base64 of the chain head hash (32 bytes)
 *     hash-chain sha256 v1            extension: lines 2-3 are a hash chain head, not a Merkle root
 *     checkpoint <n>                  extension: this checkpoint's position in the checkpoint chain
 *     prev <base64 | none>            extension: SHA-256 of the previous checkpoint's signed text
 *     time <ISO 8601 UTC>             extension: when the checkpoint was made
 *     kid <RFC 7638 thumbprint>       extension: the HSM key that signed it
 *
 * signed by the HSM key with an ECDSA P-256 note signature (type 0x02) under the key name
 * <origin>. Our audit trail is a SHA-256 hash chain (hashChain.ts), not an RFC 6962 Merkle tree,
 * so the size and root lines carry the chain head: a checkpoint of size N vouches for entries
 * 1..N through the head hash, and a later checkpoint extends an earlier one when the chain from
 * the earlier head leads to the later one (no consistency proof; the entries themselves are
 * re-hashed). What the format lacks, the extension lines carry: the link to the previous
 * checkpoint (so checkpoints form a chain of their own), the checkpoint number, the time and the
 * key. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { NoteFormatError, formatSignedNote, parseSignedNote, findVerifiedSignature, p1363ToDer, ecdsaKeyId } from './signedNote.js';

export const HASH_CHAIN_EXTENSION = 'hash-chain sha256 v1';

export interface CheckpointBody {
  origin: string;
  /** Sequence number of the chain head (entries ever appended). */
  seq: number;
  /** Chain head hash, hex. */
  headHash: string;
  /** Position in the checkpoint chain (1, 2, ...). */
  n: number;
  /** SHA-256 (hex) of the previous checkpoint's signed text, or null for the first. */
  prevHash: string | null;
  /** ISO 8601 UTC. */
  at: string;
  kid: string;
}

/** The origin line: a schema-less URL naming this gateway's audit log. */
export function checkpointOrigin(gatewayOrigin: string): string {
  return `${new URL(gatewayOrigin).host}/audit`;
}

/** SHA-256 (hex) of a checkpoint's signed text (the note, or a pre-note checkpoint's JWS). */
export function checkpointTextHash(signedText: string): string {
  return createHash('sha256').update(signedText, 'utf8').digest('hex');
}

const HEX32 = /^[0-9a-f]{64}$/;

/** The note text (what is signed). */
export function checkpointText(body: CheckpointBody): string {
  if (!HEX32.test(body.headHash)) throw new TypeError('checkpointText: head hash must be 32 bytes of hex');
  if (body.prevHash !== null && !HEX32.test(body.prevHash)) throw new TypeError('checkpointText: prev hash must be 32 bytes of hex');
  if (!Number.isSafeInteger(body.seq) || body.seq < 0 || !Number.isSafeInteger(body.n) || body.n < 1) throw new TypeError('checkpointText: bad size or number');
  return [
    body.origin,
    String(body.seq),
    Buffer.from(body.headHash, 'hex').toString('base64'),
    HASH_CHAIN_EXTENSION,
    `checkpoint ${body.n}`,
    `prev ${body.prevHash === null ? 'none' : Buffer.from(body.prevHash, 'hex').toString('base64')}`,
    `time ${body.at}`,
    `kid ${body.kid}`,
    '',
  ].join('\n');
}

/** Signs the checkpoint text: `sign` returns the HSM's raw r||s ES256 signature of the bytes given. */
export async function signCheckpointNote(
  body: CheckpointBody,
  jwk: Readonly<Record<string, string>>,
  sign: (data: Uint8Array) => Promise<Uint8Array>,
): Promise<string> {
  const text = checkpointText(body);
  const raw = await sign(new TextEncoder().encode(text));
  return formatSignedNote(text, [{ name: body.origin, keyId: ecdsaKeyId(jwk), signature: p1363ToDer(raw) }]);
}

function base64Hash(line: string | undefined, prefix: string): string | null {
  if (line === undefined || !line.startsWith(prefix)) throw new NoteFormatError(`expected a "${prefix.trim()}" line`);
  const value = line.slice(prefix.length);
  if (value === 'none') return null;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== value) throw new NoteFormatError(`"${prefix.trim()}" is not base64 of 32 bytes`);
  return bytes.toString('hex');
}

/** Reads the checkpoint body of a note (its structure only; the signature is checked by {@link verifyCheckpointNote}). */
export function parseCheckpointNote(note: string): { body: CheckpointBody; text: string } {
  const parsed = parseSignedNote(note);
  const lines = parsed.text.slice(0, -1).split('\n');
  if (lines.length !== 8) throw new NoteFormatError(`a checkpoint note has 8 text lines, this one ${lines.length}`);
  const [origin = '', size = '', root = '', chain, number, prev, time, kid] = lines;
  if (!/^(0|[1-9]\d*)$/.test(size)) throw new NoteFormatError('the size line is not a decimal without leading zeroes');
  const head = base64Hash(`root ${root}`, 'root ');
  if (head === null) throw new NoteFormatError('the root line is missing');
  if (chain !== HASH_CHAIN_EXTENSION) throw new NoteFormatError(`expected the extension line "${HASH_CHAIN_EXTENSION}"`);
  const n = /^checkpoint ([1-9]\d*)$/.exec(number ?? '')?.[1];
  const at = /^time (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/.exec(time ?? '')?.[1];
  const keyId = /^kid ([A-Za-z0-9_-]{43})$/.exec(kid ?? '')?.[1];
  if (!n || !at || !keyId) throw new NoteFormatError('the checkpoint, time or kid line is malformed');
  return {
    text: parsed.text,
    body: { origin, seq: Number(size), headHash: head, n: Number(n), prevHash: base64Hash(prev, 'prev '), at, kid: keyId },
  };
}

/**
 * Verifies a checkpoint note with the public key of the kid it names: the origin's signature
 * must be present and valid. Returns the body, or the problem in words.
 */
export function verifyCheckpointNote(note: string, jwkOf: (kid: string) => Readonly<Record<string, string>> | undefined): { body: CheckpointBody } | { problem: string } {
  let parsed: { body: CheckpointBody; text: string };
  try {
    parsed = parseCheckpointNote(note);
  } catch (err) {
    return { problem: `not a checkpoint note (${err instanceof Error ? err.message : String(err)})` };
  }
  const jwk = jwkOf(parsed.body.kid);
  if (!jwk) return { problem: `signed with key ${parsed.body.kid}, which is not trusted` };
  const verdict = findVerifiedSignature(parseSignedNote(note), parsed.body.origin, jwk);
  if (verdict === 'absent') return { problem: `carries no signature of ${parsed.body.origin} by key ${parsed.body.kid}` };
  if (verdict === 'invalid') return { problem: 'the signature does not verify' };
  return { body: parsed.body };
}
