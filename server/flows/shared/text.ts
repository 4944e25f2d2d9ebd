/** Small text rules the flows share. */
import { ValidationError } from '../../errors.js';

const LABEL_MAX = 64;

/** A key's name as stored: NFC, no control or format characters, trimmed, at most 64 characters. */
export function cleanLabel(label: string): string {
  const clean = label.normalize('NFC').replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, LABEL_MAX);
  if (clean.length === 0) throw new ValidationError('The key name must not be empty.', [{ path: 'label', code: 'too_small', message: 'must not be empty', words: { key: 'validation.empty', params: {} } }]);
  return clean;
}

/** j***@example.dk: enough for the holder to recognise, not enough to harvest addresses. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

/** The innermost message of an error, short enough for an audit event. */
export function detailOf(err: unknown): string {
  const inner = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return inner instanceof Error ? inner.message.slice(0, 200) : 'unknown';
}
