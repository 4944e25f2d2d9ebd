/** Titlerne på problem+json-svarene (HTTP-status i ord), på forespørgslens sprog. */
import type { Translation } from '../catalogue.js';
import type { answers as en } from '../en/answers.js';

export const answers: Translation<typeof en> = {
  'problemTitle.400': 'Ugyldig forespørgsel',
  'problemTitle.401': 'Ikke logget ind',
  'problemTitle.403': 'Ikke tilladt',
  'problemTitle.404': 'Ikke fundet',
  'problemTitle.409': 'Konflikt',
  'problemTitle.413': 'For stort indhold',
  'problemTitle.415': 'Formatet modtages ikke',
  'problemTitle.429': 'For mange forsøg',
  'problemTitle.500': 'Intern serverfejl',
  'problemTitle.503': 'Tjenesten er ikke tilgængelig',
  'problemTitle.fallback': 'Fejl',
};
