/**
 * One-time secrets: enrolment tokens, activation codes, session and flow ids.
 * Stored only as keyed hashes (HMAC-SHA-256 with the gateway key, so a stolen database does not
 * allow offline guessing of short codes; NSIS 3.3.1 (Low) 2) and compared in constant time.
 */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export const ACTIVATION_CODE_DIGITS = 8;

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** An 8-digit activation code, uniformly random. */
export function randomActivationCode(): string {
  let code = '';
  for (let i = 0; i < ACTIVATION_CODE_DIGITS; i++) code += String(randomInt(0, 10));
  return code;
}

export function keyedHash(key: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', key).update(purpose).update('\0').update(value).digest('hex');
}

/** For high-entropy ids (sessions, flows) a plain hash suffices. */
export function plainHash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function hashesEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Normalises what a person types: spaces and dashes are ignored. */
export function normaliseCode(input: string): string {
  return input.replace(/[\s-]/g, '');
}
