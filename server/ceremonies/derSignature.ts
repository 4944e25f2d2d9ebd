/**
 * WebAuthn §6.5.5 / §8.2: an ECDSA signature is an ASN.1 DER ECDSA-Sig-Value, SEQUENCE { r INTEGER,
 * s INTEGER }. @simplewebauthn/server peels r and s out with a lenient BER parser: another outer
 * tag, a wrong outer length or zero-padded integers are all accepted as the same (r, s). So one
 * valid signature had many accepted encodings (found by flipping single bits of valid signatures,
 * issue 7). Nothing is forged that way, but a response that was tampered with must not pass: this
 * admits exactly the DER encoding.
 */

/** COSE algorithm identifiers whose signatures are ECDSA (ES256, ES384, ES512, ES256K). */
export const COSE_ECDSA_ALGS: readonly number[] = [-7, -35, -36, -47];

/** True only for a DER-encoded ECDSA-Sig-Value with positive, minimally encoded r and s. */
export function isStrictDerEcdsaSignature(sig: Uint8Array): boolean {
  let i = 0;
  // DER lengths: short form below 128; long form only when needed (one byte suffices up to P-521).
  const length = (): number | undefined => {
    const first = sig[i++];
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    if (first !== 0x81) return undefined;
    const n = sig[i++];
    return n === undefined || n < 0x80 ? undefined : n;
  };
  if (sig[i++] !== 0x30) return false;
  const total = length();
  if (total === undefined || i + total !== sig.length) return false;
  for (let k = 0; k < 2; k++) {
    if (sig[i++] !== 0x02) return false;
    const n = length();
    if (n === undefined || n === 0 || i + n > sig.length) return false;
    const first = sig[i] ?? 0;
    if (first & 0x80) return false; // negative
    if (first === 0 && (n === 1 || ((sig[i + 1] ?? 0) & 0x80) === 0)) return false; // zero, or padded
    i += n;
  }
  return i === sig.length;
}
