/**
 * ONE wording per reason code, for every page and every mail (the words live in each language's
 * catalogue, en/reasons.ts and da/reasons.ts): what the helpdesk picks in a list, what the holder
 * reads on "My keys" and in the revocation receipt, and what the key's history says are the same
 * words. docs/lifecycle.md lists them next to the codes the table accepts.
 */
import type { ReasonCode } from '../server/domain/types.js';
import { CATALOGUES } from './catalogue.js';
import { LANGUAGES, type Language } from './languages.js';

const PREFIX = 'reason.';

function labelsOf(language: Language): Readonly<Record<ReasonCode, string>> {
  const labels: Record<string, string> = {};
  for (const [key, words] of Object.entries(CATALOGUES[language])) if (key.startsWith(PREFIX)) labels[key.slice(PREFIX.length)] = words;
  return labels as Record<ReasonCode, string>;
}

export const REASON_LABELS: Readonly<Record<Language, Readonly<Record<ReasonCode, string>>>> = Object.fromEntries(
  LANGUAGES.map((l) => [l, labelsOf(l)]),
) as Record<Language, Readonly<Record<ReasonCode, string>>>;

/** The words for a reason code; an unknown code is shown as it is (never hidden). */
export function reasonLabel(code: string | null | undefined, language: Language, fallback = '—'): string {
  if (!code) return fallback;
  const labels: Readonly<Record<string, string>> = REASON_LABELS[language];
  return labels[code] ?? code;
}
