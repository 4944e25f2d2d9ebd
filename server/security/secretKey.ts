/**
 * The gateway's secret key (HMAC key for one-time codes and enrolment tokens). Never a default:
 * read from the file named by configuration, generated on first start with mode 0600.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function loadOrCreateSecretKey(file: string): Buffer {
  if (fs.existsSync(file)) {
    const mode = fs.statSync(file).mode & 0o077;
    if (mode !== 0) throw new Error(`${file} is readable by group or others; chmod 600 it`);
    const hex = fs.readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file} does not hold a 32-byte hex key`);
    return Buffer.from(hex, 'hex');
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  fs.writeFileSync(file, key.toString('hex'), { mode: 0o600, flag: 'wx' });
  return key;
}
