/**
 * A person's language (issue 16): the language their mails are written in, and their pages and
 * problem answers when neither the language switch nor the browser says. Set by the person
 * (the switch on any page while signed in, the choice on My keys, the page language at
 * enrolment and activation) or at binding (the admin's form, the CSV import, SCIM). Audited.
 */
import type { Language } from '../../../i18n/index.js';
import type { Actor, Identity } from '../../domain/types.js';
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

/**
 * The language of the page a person enrols or activates on (issue 16). `chosen`: the person
 * picked it with the switch (the gw_lang cookie); otherwise it is only their browser's preference.
 */
export interface PageLanguageChoice {
  language: Language;
  chosen: boolean;
}

/**
 * Inside the caller's transaction, at enrolment or activation: a language the person chose on the
 * page becomes theirs; their browser's preference does so only when they (and the admin) chose
 * none and it is not the organisation's anyway (then nothing changes for them). Returns the
 * person as they now are (so a mail queued next is in that language).
 */
export async function adoptPageLanguageIn(deps: CoreDeps, tx: WriteTx, person: Identity, page: PageLanguageChoice | undefined): Promise<Identity> {
  if (!page || !adopts(deps, person, page)) return person;
  const holder: Actor = { identityId: person.id, role: 'holder' };
  return (await setLanguageIn(deps, tx, holder, person.id, page.language)) ? { ...person, language: page.language } : person;
}

function adopts(deps: CoreDeps, person: Identity, page: PageLanguageChoice): boolean {
  if (person.language === page.language) return false;
  if (page.chosen) return true;
  return person.language === null && page.language !== deps.config.defaultLanguage;
}

/** The same in a transaction of its own (after an activation). */
export async function adoptPageLanguage(deps: CoreDeps, person: Identity, page: PageLanguageChoice | undefined): Promise<void> {
  if (!page || !adopts(deps, person, page)) return;
  await deps.store.write(async (tx) => {
    const now = await tx.identities.get(person.id);
    if (now) await adoptPageLanguageIn(deps, tx, now, page);
  });
}
