// My keys: the language of my mails (issue 16). The person's stored language, chosen here or by
// the language switch while signed in; a person who chose none gets the organisation's.
import { CATALOGUES, LANGUAGES, isLanguage, type Language } from '../../i18n/index.js';
import { busy, byId, storeLanguage, t, type Identity } from './common.js';

const NOT_CHOSEN = '';

/** Fills the choice with the person's stored language and saves a new one. */
export function setUpMailLanguage(identity: Identity): void {
  const form = byId<HTMLFormElement>('mail-language');
  const select = byId<HTMLSelectElement>('mail-language-select');
  const button = byId<HTMLButtonElement>('mail-language-save');
  const status = byId('mail-language-status');
  const options: HTMLOptionElement[] = [];
  if (!identity.language) options.push(new Option(t('keys.mailLanguage.notChosen'), NOT_CHOSEN, true, true));
  for (const language of LANGUAGES) {
    const option = new Option(CATALOGUES[language]['common.language.name'], language, false, identity.language === language);
    option.lang = language;
    options.push(option);
  }
  select.replaceChildren(...options);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = select.value;
    if (!isLanguage(chosen)) return;
    void busy(button, form, async () => {
      const saved = await storeLanguage(chosen);
      status.textContent = saved ? t('keys.mailLanguage.saved', { language: nameOf(chosen) }) : t('keys.mailLanguage.failed');
      if (saved) select.querySelector(`option[value="${NOT_CHOSEN}"]`)?.remove();
    });
  });
}

/** The language's name in the page's language (“engelsk” on a Danish page). */
function nameOf(language: Language): string {
  return language === 'da' ? t('keys.mailLanguage.in.da') : t('keys.mailLanguage.in.en');
}
