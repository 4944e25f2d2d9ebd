/** Én formulering pr. årsagskode, på alle sider og i alle mails (se en/reasons.ts). */
import type { Translation } from '../catalogue.js';
import type { reasons as en } from '../en/reasons.js';

export const reasons: Translation<typeof en> = {
  'reason.registered': 'Registreret af indehaveren',
  'reason.activated': 'Aktiveret af indehaveren',
  'reason.lost': 'Bortkommet',
  'reason.found': 'Fundet igen',
  'reason.damaged': 'Beskadiget eller i stykker',
  'reason.suspected-compromise': 'Mistanke om kompromittering',
  'reason.suspected-clone': 'Mistanke om kopi (klon) af nøglen',
  'reason.data-error': 'Udstedt på forkerte identitetsoplysninger',
  'reason.agreement-ended': 'Aftalen er ophørt',
  'reason.holder-ceased': 'Indehaveren er ophørt med at eksistere',
  'reason.employment-ended': 'Ansættelse eller tilknytning ophørt',
  'reason.replaced': 'Erstattet af en ny nøgle',
  'reason.holder-request': 'På indehaverens anmodning',
  'reason.expired': 'Gyldigheden er udløbet',
  'reason.binding-suspended': 'Organisationens brugerkatalog har suspenderet personen',
  'reason.binding-resumed': 'Organisationens brugerkatalog har gjort personen aktiv igen',
  'reason.other': 'Anden årsag',
};
