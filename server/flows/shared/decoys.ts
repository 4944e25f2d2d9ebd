/**
 * Decoy credentials for an address without keys (issue 13, 8), shaped like the organisation's
 * real keys (ceremonies/decoys.ts). The key population is surveyed at most every
 * POPULATION_SURVEY_MS per process, so a decoy stays the same while the population keeps its shape.
 */
import { decoyCredentials, type DecoyCredential } from '../../ceremonies/decoys.js';
import { normaliseEmail } from '../../domain/identities.js';
import type { KeyPopulation } from '../../domain/keys.js';
import type { ReadTx } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';

const POPULATION_SURVEY_MS = 10 * 60_000;

export function decoysFor(deps: CoreDeps, tx: ReadTx, email: string): Promise<DecoyCredential[]> {
  return decoysWith(deps, email, () => tx.credentials.population());
}

/**
 * The same, after the read that found no keys: the population is read (in a read of its own)
 * only when the survey is due, so an address nobody holds costs the same statements as one that
 * is held (issue 17: a sign-in's options are one statement either way).
 */
export function decoysOutsideRead(deps: CoreDeps, email: string): Promise<DecoyCredential[]> {
  return decoysWith(deps, email, () => deps.store.read((tx) => tx.credentials.population()));
}

async function decoysWith(deps: CoreDeps, email: string, population: () => Promise<KeyPopulation>): Promise<DecoyCredential[]> {
  const now = deps.clock.now().getTime();
  let survey = deps.population;
  if (!survey || now - survey.surveyedAt >= POPULATION_SURVEY_MS || now < survey.surveyedAt) {
    survey = { surveyedAt: now, value: await population() };
    deps.population = survey;
  }
  return decoyCredentials(deps.secretKey, normaliseEmail(email), survey.value);
}
