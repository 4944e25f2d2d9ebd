/**
 * The audit trail's filter by name (issue 16): what the officer typed in "Person", "Security key"
 * or "Done by" is resolved to the id the trail is filtered by, through
 * GET /api/security/audit/lookup (the consoles' identity search). An id is taken as it is; a name
 * or address that matches exactly one person (or, for a key, exactly one key of the people it
 * matches) is used; none or several is said, with the matches, so the officer can be precise.
 */
import { api, t } from '../common.js';

interface LookupAnswer {
  people: Array<{ id: string; name: string; email: string }>;
  keys: Array<{ id: string; label: string; holderName: string }>;
}

/** A filter text that cannot be used: the message says why, the input is the one to correct. */
export class LookupProblem extends Error {
  constructor(
    message: string,
    readonly input: HTMLInputElement,
  ) {
    super(message);
  }
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Resolved {
  id: string;
  /** How the match is named to the officer; null when an id was given. */
  words: string | null;
}

/** The id to filter by, or null when the input is empty; a LookupProblem when none or several match. */
export async function resolveRef(kind: 'person' | 'key', input: HTMLInputElement): Promise<Resolved | null> {
  const text = input.value.trim();
  if (text === '') return null;
  if (ID.test(text)) return { id: text, words: null };
  const answer = await api<LookupAnswer>('GET', `/api/security/audit/lookup?q=${encodeURIComponent(text)}`);
  const matches =
    kind === 'person'
      ? answer.people.map((p) => ({ id: p.id, words: `${p.name} <${p.email}>` }))
      : answer.keys.map((k) => ({ id: k.id, words: t('auditTrail.lookup.keyOf', { label: k.label, name: k.holderName }) }));
  const [only, ...others] = matches;
  if (!only) throw new LookupProblem(t(kind === 'person' ? 'auditTrail.lookup.none' : 'auditTrail.lookup.noKey', { text }), input);
  if (others.length > 0) throw new LookupProblem(t('auditTrail.lookup.several', { text, matches: matches.map((m) => m.words).join(t('console.listSeparator')) }), input);
  return only;
}
