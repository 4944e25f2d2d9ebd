/** Administrationssidens afsnit om provisionering (issue 18): brugerkataloger, der tilknytter personer via SCIM. */
import type { Translation } from '../catalogue.js';
import type { provisioning as en } from '../en/provisioning.js';

export const provisioning: Translation<typeof en> = {
  'provisioning.heading': 'Provisionering fra jeres brugerkatalog (SCIM)',
  'provisioning.intro':
    'Jeres brugerkatalog (Entra ID, Active Directory via en agent, et HR-system) kan oprette, ændre, suspendere og fjerne medarbejdere her via SCIM 2.0. Hvert katalog får sin egen token og det identitetssikringsniveau, I erklærer for de personer, det sender.',
  'provisioning.scimUrl': 'Tenant-URL til kataloget: {url}',
  'provisioning.caption': 'Registrerede kataloger',
  'provisioning.col.client': 'Katalog',
  'provisioning.col.assurance': 'Identitetssikring og identitetskontrol',
  'provisioning.col.people': 'Personer',
  'provisioning.col.tokens': 'Adgangstokens',
  'provisioning.col.actions': 'Handlinger',
  'provisioning.none': 'Der er endnu ikke registreret noget katalog.',
  'provisioning.token.valid': '{id}: gyldig til {date}',
  'provisioning.token.validForever': '{id}: gyldig indtil den tilbagekaldes',
  'provisioning.token.expired': '{id}: udløbet',
  'provisioning.token.revoked': '{id}: tilbagekaldt',
  'provisioning.newToken': 'Ny token<hidden> til {client}</hidden>',
  'provisioning.revokeToken': 'Tilbagekald {id}',
  'provisioning.confirmRevoke.heading': 'Tilbagekald denne token?',
  'provisioning.confirmRevoke.text': 'Kataloget “{client}” kan ikke længere bruge token {id}. Udsted en ny token først, hvis kataloget skal blive ved med at virke.',
  'provisioning.confirmRevoke.ok': 'Tilbagekald token',
  'provisioning.shownOnce':
    'Kopiér denne token ind i katalogets provisioneringsindstillinger nu. Den vises kun denne ene gang; gatewayen gemmer kun en nøglebaseret hash af den.',
  'provisioning.tokenLabel': 'Hemmelig token',
  'provisioning.revoked': 'Token {id} blev tilbagekaldt.',
  'provisioning.loadFailed': 'Katalogerne kunne ikke hentes.',
  'provisioning.held.heading': 'E-mailændringer fra et katalog',
  'provisioning.held.intro':
    'Et katalog kan ikke selv ændre, hvor aktiveringskoder sendes hen. Før en ændring over under “Kontaktoplysninger” for personen: en anden medarbejder godkender den.',
  'provisioning.held.item': '{name}: {bound} i gatewayen, {directory} i “{client}”',
  'provisioning.held.none': 'Ingen e-mailændringer venter.',
  'provisioning.register.heading': 'Registrér et katalog',
  'provisioning.register.label': 'Katalogets navn',
  'provisioning.register.label.hint': 'For eksempel “Entra ID (HR-synkronisering)”. Vises her og i auditsporet.',
  'provisioning.register.ial.hint': 'Det identitetssikringsniveau, personerne fra dette katalog har: det NSIS-niveau, jeres HR-proces kontrollerer personer til.',
  'provisioning.register.proofing.hint': 'Hvordan jeres proces kontrollerede de personer, kataloget sender, f.eks. “HR-onboarding: pas kontrolleret ved fremmøde”.',
  'provisioning.register.days': 'Tokenens gyldighed (dage)',
  'provisioning.register.days.hint': 'Fra 1 til 730 dage. Udsted en ny token, før den udløber.',
  'provisioning.register.submit': 'Registrér katalog',
  'provisioning.registered': 'Kataloget “{client}” blev registreret.',
};
