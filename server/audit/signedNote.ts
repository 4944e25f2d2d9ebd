/**
 * C2SP signed notes (https://c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank
 * line, then signature lines "— <key name> <base64(uint32 key ID || signature)>". The gateway
 * signs with signature type 0x02, ECDSA as implemented by github.com/transparency-dev/witness:
 * NIST P-256, an ASN.1 DER signature over SHA-256 of the note text, and a key ID that is the
 * first four bytes (big-endian) of SHA-256 over the key's DER SubjectPublicKeyInfo. A verifier
 * key is written "<name>+<hex key ID>+<base64(0x02 || SPKI DER)>".
 *
 * Pure: no I/O. Used for the audit checkpoints the witnesses keep (checkpointNote.ts).
 */
import { createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The signature type byte of ECDSA note signatures (signed-note "Signature types"). */
export const SIGNATURE_TYPE_ECDSA = 0x02;
const EM_DASH = '\u2014';
/** A note is small; anything larger is refused before it is parsed further. */
const MAX_NOTE_BYTES = 64 * 1024;
/** The spec asks verifiers to accept at least 16 signatures. */
const MAX_SIGNATURES = 64;

export class NoteFormatError extends Error {
  override readonly name = 'NoteFormatError';
}

export interface NoteSignature {
  /** Key name (no spaces, no '+'). */
  name: string;
  /** The uint32 key ID. */
  keyId: number;
  /** The signature bytes after the key ID (DER for type 0x02). */
  signature: Buffer;
}

export interface SignedNote {
  /** The signed text, ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

/** signed-note: key names are non-empty and hold neither Unicode spaces nor '+'. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

function checkCharacters(s: string): void {
  // signed-note: no ASCII control characters other than newline.
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(s)) throw new NoteFormatError('a note must not contain control characters other than newline');
}

/** Splits a signed note into its text and signature lines (structure only; nothing is verified). */
export function parseSignedNote(note: string): SignedNote {
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) throw new NoteFormatError('the note is too large');
  checkCharacters(note);
  if (!note.endsWith('\n')) throw new NoteFormatError('a note ends in a newline');
  // The text is separated from the signatures by the last blank line.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteFormatError('no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length === 0 || lines.length > MAX_SIGNATURES) throw new NoteFormatError(`a note carries 1 to ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line): NoteSignature => {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
    if (!m?.[1] || !m[2]) throw new NoteFormatError(`not a signature line: ${JSON.stringify(line.slice(0, 80))}`);
    if (!isValidKeyName(m[1])) throw new NoteFormatError('invalid key name');
    const raw = Buffer.from(m[2], 'base64');
    if (raw.toString('base64') !== m[2] || raw.length < 5) throw new NoteFormatError('the signature is not canonical base64 of a key ID and a signature');
    return { name: m[1], keyId: raw.readUInt32BE(0), signature: raw.subarray(4) };
  });
  return { text, signatures };
}

/** The text followed by a blank line and the signature lines. */
export function formatSignedNote(text: string, signatures: readonly NoteSignature[]): string {
  checkCharacters(text);
  if (!text.endsWith('\n')) throw new TypeError('formatSignedNote: the text must end in a newline');
  const lines = signatures.map((s) => {
    if (!isValidKeyName(s.name)) throw new TypeError(`formatSignedNote: invalid key name ${s.name}`);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyId >>> 0, 0);
    return `${EM_DASH} ${s.name} ${Buffer.concat([id, s.signature]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

function publicKeyOf(jwk: Readonly<Record<string, string>>): KeyObject {
  const key = createPublicKey({ key: { ...jwk } as JsonWebKey, format: 'jwk' });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('signed notes are signed with P-256 keys only');
  }
  return key;
}

/** DER SubjectPublicKeyInfo of a P-256 public JWK. */
export function spkiDer(jwk: Readonly<Record<string, string>>): Buffer {
  return publicKeyOf(jwk).export({ type: 'spki', format: 'der' });
}

/** Key ID of an ECDSA (type 0x02) key: the first four bytes, big-endian, of SHA-256(SPKI DER). */
export function ecdsaKeyId(jwk: Readonly<Record<string, string>>): number {
  return createHash('sha256').update(spkiDer(jwk)).digest().readUInt32BE(0);
}

/** The verifier key string standard note tools take: name+hex(key ID)+base64(0x02 || SPKI DER). */
export function ecdsaVerifierKey(name: string, jwk: Readonly<Record<string, string>>): string {
  if (!isValidKeyName(name)) throw new TypeError(`ecdsaVerifierKey: invalid key name ${name}`);
  const id = ecdsaKeyId(jwk).toString(16).padStart(8, '0');
  return `${name}+${id}+${Buffer.concat([Buffer.from([SIGNATURE_TYPE_ECDSA]), spkiDer(jwk)]).toString('base64')}`;
}

/** Parses a verifier key string into its name, key ID and P-256 public key (JWK). */
export function parseEcdsaVerifierKey(vkey: string): { name: string; keyId: number; jwk: Record<string, string> } {
  // name+hash+key: the key is base64, which may itself hold '+', so split at the first two only.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  const name = vkey.slice(0, Math.max(first, 0));
  const hex = vkey.slice(first + 1, Math.max(second, first + 1));
  const b64 = second < 0 ? '' : vkey.slice(second + 1);
  if (second < 0 || !isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(hex)) throw new NoteFormatError('not a verifier key');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes[0] !== SIGNATURE_TYPE_ECDSA) throw new NoteFormatError('not an ECDSA (type 0x02) verifier key');
  const key = createPublicKey({ key: bytes.subarray(1), format: 'der', type: 'spki' });
  const exported = key.export({ format: 'jwk' });
  const jwk: Record<string, string> = {};
  for (const [k, v] of Object.entries(exported)) if (typeof v === 'string') jwk[k] = v;
  publicKeyOf(jwk);
  const keyId = Number.parseInt(hex, 16);
  if (ecdsaKeyId(jwk) !== keyId) throw new NoteFormatError('the key ID does not match the key');
  return { name, keyId, jwk };
}

/** ECDSA r||s (IEEE P1363, as PKCS#11 CKM_ECDSA returns it) to ASN.1 DER ECDSA-Sig-Value. */
export function p1363ToDer(signature: Uint8Array): Buffer {
  if (signature.length !== 64) throw new TypeError(`p1363ToDer: expected 64 bytes, got ${signature.length}`);
  const integer = (bytes: Uint8Array): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = Buffer.from(bytes.subarray(start));
    const body = (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([integer(signature.subarray(0, 32)), integer(signature.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}

/** Whether `signature` (type 0x02: DER) is a valid ECDSA P-256 / SHA-256 signature of the note text. */
export function verifyEcdsaNoteSignature(text: string, signature: Uint8Array, jwk: Readonly<Record<string, string>>): boolean {
  try {
    return verify('sha256', Buffer.from(text, 'utf8'), { key: publicKeyOf(jwk), dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/**
 * The signature of `name`'s key in the note, verified: the key name and key ID must both match
 * (signed-note: signatures from unknown keys are ignored), and the signature must verify.
 */
export function findVerifiedSignature(note: SignedNote, name: string, jwk: Readonly<Record<string, string>>): 'verified' | 'absent' | 'invalid' {
  const keyId = ecdsaKeyId(jwk);
  const mine = note.signatures.filter((s) => s.name === name && s.keyId === keyId);
  if (mine.length === 0) return 'absent';
  return mine.every((s) => verifyEcdsaNoteSignature(note.text, s.signature, jwk)) ? 'verified' : 'invalid';
}
