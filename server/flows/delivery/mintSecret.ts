/**
 * The outbox's secret minter (issue 13, 5): called just before a code or link mail is delivered.
 * Draws a fresh secret, commits its keyed hash (durably, before the mail leaves) and returns the
 * text for the mail, in memory only. Undefined when the code or link was withdrawn, used, locked
 * or expired meanwhile (the mail is then not sent). A mail delivered twice carries two secrets;
 * the newest works.
 */
import { formatCode } from '../../lifecycle/mails.js';
import { keyedHash, randomActivationCode, randomToken } from '../../security/oneTimeSecrets.js';
import type { CoreDeps } from '../deps.js';
import { enrolmentLink } from '../enrolment/issueEnrolment.js';

export async function mintSecret(deps: CoreDeps, ref: string): Promise<string | undefined> {
  const at = deps.clock.now().toISOString();
  const link = /^enrolment-link:([0-9a-f-]{36})$/.exec(ref);
  if (link?.[1]) {
    const enrolmentId = link[1];
    const token = randomToken(32);
    const minted = await deps.store.write((tx) => tx.enrolments.mintToken(enrolmentId, keyedHash(deps.secretKey, 'enrolment', token), at));
    return minted ? enrolmentLink(deps, token) : undefined;
  }
  const m = /^activation-code:([0-9a-f-]{36})$/.exec(ref);
  if (!m?.[1]) throw new TypeError(`unknown secret reference ${ref}`);
  const codeId = m[1];
  const code = randomActivationCode();
  const minted = await deps.store.write((tx) => tx.codes.mint(codeId, keyedHash(deps.secretKey, `activation:${codeId}`, code), at));
  return minted ? formatCode(code) : undefined;
}
