/**
 * Decoy credentials for an address without keys (issue 13, 8), shaped like the organisation's
 * real keys (ceremonies/decoys.ts). The key population is surveyed at most every
 * POPULATION_SURVEY_MS per process, so a decoy stays the same while the population keeps its shape.
 */
import { decoyCredentials, type DecoyCredential } from '../../ceremonies/decoys.js';
import { normaliseEmail } from '../../domain/identities.js';
import type { ReadTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';

const POPULATION_SURVEY_MS = 10 * 60_000;

export async function decoysFor(deps: CoreDeps, tx: ReadTx, email: string): Promise<DecoyCredential[]> {
  const now = deps.clock.now().getTime();
  let survey = deps.population;
  if (!survey || now - survey.surveyedAt >= POPULATION_SURVEY_MS || now < survey.surveyedAt) {
    survey = { surveyedAt: now, value: await tx.credentials.population() };
    deps.population = survey;
  }
  return decoyCredentials(deps.secretKey, normaliseEmail(email), survey.value);
}
