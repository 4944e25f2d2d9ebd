/**
 * A person's language (issue 16): the language their mails are written in, and their pages and
 * problem answers when neither the language switch nor the browser says. Set by the person
 * (the switch on any page while signed in, the choice on My keys, the page language at
 * enrolment and activation) or at binding (the admin's form, the CSV import, SCIM). Audited.
 */
import type { Language } from '../../../i18n/index.js';
import type { Actor } from '../../domain/types.js';
import { NotFoundError } from '../../errors.js';
import type { WriteTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';

/**
 * Inside the caller's transaction: the language of `identityId`; unchanged (and not audited)
 * when it is that already. False when the person is not bound (any more).
 */
export async function setLanguageIn(deps: CoreDeps, tx: WriteTx, actor: Actor, identityId: string, language: Language): Promise<boolean> {
  const person = await tx.identities.get(identityId);
  if (!person || person.bindingState !== 'active') return false;
  if (person.language === language) return true;
  if (!(await tx.identities.setLanguage(identityId, language))) return false;
  await recordEvent(deps, tx, 'identity.language-set', actor, identityId, { from: person.language, to: language });
  return true;
}

/** The signed-in person chooses their own language. */
export async function setOwnLanguage(deps: CoreDeps, identityId: string, language: Language): Promise<Language> {
  const done = await deps.store.write((tx) => setLanguageIn(deps, tx, { identityId, role: 'holder' }, identityId, language));
  if (!done) throw new NotFoundError('Unknown person.');
  return language;
}
