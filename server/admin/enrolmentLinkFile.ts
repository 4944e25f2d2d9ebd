/**
 * A one-time enrolment link handed to the operator on the server itself, never through the log
 * (NSIS 4.1.6 (Low) 3: access limited to who strictly needs it): a file under var/ with mode
 * 0600, written whole (a temporary file renamed into place), that only the gateway's user can
 * read. Used for the first administrator's link and for `npm run recover-admin`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The first administrator's link (rewritten at each start while the administrator has never enrolled a key). */
export const FIRST_ADMIN_LINK_FILE = 'first-admin-enrolment.txt';
/** The link `npm run recover-admin` issues. */
export const RECOVERY_LINK_FILE = 'admin-recovery-enrolment.txt';

export interface LinkFileContent {
  purpose: string;
  name: string;
  email: string;
  link: string;
  expiresAt: string;
}

export function writeEnrolmentLinkFile(file: string, c: LinkFileContent): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const text = [
    `${c.purpose}`,
    `For: ${c.name} <${c.email}>`,
    `Valid until: ${c.expiresAt} (one use; issuing another link withdraws this one)`,
    '',
    c.link,
    '',
    'Open the link in a browser on a trusted computer and register a security key. The activation code',
    'goes to the address above. Delete this file once the key is registered.',
    '',
  ].join('\n');
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  // rename keeps the temporary file's mode; make sure whatever umask applied did not widen it.
  fs.chmodSync(file, 0o600);
}

/** The link in a file written by {@link writeEnrolmentLinkFile}, if there is one. */
export function readEnrolmentLinkFile(file: string): string | undefined {
  try {
    return /^(https?:\/\/\S+\/enrol\.html#token=[A-Za-z0-9_-]+)$/m.exec(fs.readFileSync(file, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

export function removeEnrolmentLinkFile(file: string): void {
  fs.rmSync(file, { force: true });
}
