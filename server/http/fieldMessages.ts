/**
 * Issue 16: the field messages of a refused form in the reader's language. A zod issue becomes a
 * FieldProblem whose `words` name a catalogue key (i18n/<language>/validation.ts) and its
 * placeholders; its `message` is those words in English (for the log and the English detail), and
 * the problem boundary (problem.ts) renders them again in the answer's language. The
 * machine-readable parts (`path`, and `code`: zod's issue code) never change with the language.
 */
import type { z } from 'zod';
import { formatPlain, message, pluralKey, type Language, type MessageKey } from '../../i18n/index.js';
import type { FieldProblem, FieldWords } from '../errors.js';

/** The zod issue codes with a case in test/unit/i18n-field-messages.test.ts; any other (invalid_element) reads as "is not valid". */
export const MAPPED_ISSUE_CODES = ['invalid_type', 'too_small', 'too_big', 'invalid_format', 'invalid_value', 'unrecognized_keys', 'not_multiple_of', 'invalid_union', 'invalid_key', 'custom'] as const;

type ValidationKey = Extract<MessageKey, `validation.${string}`>;
type Issue = z.core.$ZodIssue;

function words(key: ValidationKey, params: Record<string, string | number> = {}): FieldWords {
  return { key, params };
}

function num(n: number | bigint): number | string {
  return typeof n === 'bigint' ? n.toString() : n;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = input;
  for (const p of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[p];
  }
  return at;
}

const TYPE_KEYS: Readonly<Record<string, ValidationKey>> = {
  string: 'validation.type.string',
  number: 'validation.type.number',
  int: 'validation.number.integer',
  boolean: 'validation.type.boolean',
  array: 'validation.type.array',
  object: 'validation.type.object',
};

function sizeWords(issue: Extract<Issue, { code: 'too_small' } | { code: 'too_big' }>): FieldWords {
  const small = issue.code === 'too_small';
  const bound = num(small ? issue.minimum : issue.maximum);
  const n = typeof bound === 'number' ? bound : Number(bound);
  if (issue.origin === 'string' || issue.origin === 'array') {
    if (issue.origin === 'string' && small && n === 1 && issue.exact !== true) return words('validation.empty');
    if (issue.exact === true && issue.origin === 'string') return words(pluralKey('en', 'validation.string.exact', n), { count: bound });
    // An exclusive bound (rare for lengths) is stated as the inclusive one it means.
    const limit = issue.inclusive === false ? (small ? n + 1 : n - 1) : n;
    if (issue.origin === 'string') return small ? words(pluralKey('en', 'validation.string.min', limit), { minimum: limit }) : words(pluralKey('en', 'validation.string.max', limit), { maximum: limit });
    return small ? words(pluralKey('en', 'validation.array.min', limit), { minimum: limit }) : words(pluralKey('en', 'validation.array.max', limit), { maximum: limit });
  }
  if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
    if (small) return issue.inclusive === false ? words('validation.number.above', { minimum: bound }) : words('validation.number.min', { minimum: bound });
    return issue.inclusive === false ? words('validation.number.below', { maximum: bound }) : words('validation.number.max', { maximum: bound });
  }
  return words(small ? 'validation.tooSmall' : 'validation.tooBig');
}

/** The catalogue words of one issue (`input`: what was parsed, to tell a missing field from a wrong one). */
export function issueWords(issue: Issue, input: unknown): FieldWords {
  switch (issue.code) {
    case 'invalid_type':
      if (valueAt(input, issue.path) === undefined) return words('validation.required');
      return words(TYPE_KEYS[issue.expected] ?? 'validation.type.unknown');
    case 'too_small':
    case 'too_big':
      return sizeWords(issue);
    case 'invalid_format':
      if (issue.format === 'email') return words('validation.format.email');
      if (issue.format === 'url') return words('validation.format.url');
      if (issue.format === 'regex') return words('validation.format.regex');
      return words('validation.format.unknown');
    case 'invalid_value':
      // The allowed values are machine words (enum members): shown as they are in every language.
      return words('validation.oneOf', { allowed: issue.values.map(String).join(', ') });
    case 'unrecognized_keys':
      return words('validation.unknownField');
    default:
      return words('validation.invalid');
  }
}

/**
 * A message the schema's author wrote (a refine's, or a pattern's such as "must be digits"): more
 * precise than the catalogue's, so the English answer keeps it; zod's own defaults start "Invalid".
 */
function ownMessage(i: Issue): string | undefined {
  if (i.code !== 'custom' && !(i.code === 'invalid_format' && i.format === 'regex')) return undefined;
  return i.message && !i.message.startsWith('Invalid') ? i.message : undefined;
}

/**
 * The FieldProblems of a failed parse. `kind` names what an unknown key is (a body's field or a
 * query's parameter). A refine's or a pattern's own English message stays in English (ownMessage);
 * in another language it reads as the catalogue's words for its kind ("is not valid").
 */
export function fieldProblems(issues: readonly Issue[], input: unknown, kind: 'field' | 'parameter', root: string): FieldProblem[] {
  return issues.slice(0, 20).flatMap((i): FieldProblem[] => {
    const at = i.path.map(String);
    if (i.code === 'unrecognized_keys') {
      // An unknown key is reported on its parent; name the key itself in the path.
      const w = words(kind === 'field' ? 'validation.unknownField' : 'validation.unknownParameter');
      return i.keys.map((k) => ({ path: [...at, k].join('.'), code: i.code, message: render('en', w), words: w }));
    }
    const w = issueWords(i, input);
    const english = ownMessage(i) ?? render('en', w);
    return [{ path: at.length > 0 ? at.join('.') : root, code: i.code, message: english, words: w }];
  });
}

/** Words of a field problem in `language`. */
export function render(language: Language, w: FieldWords): string {
  return formatPlain(message(language, w.key), w.params);
}

/** A field problem as the answer carries it, in `language` (English keeps the problem's own message). */
export function localisedFieldProblem(language: Language, p: FieldProblem): { path: string; code?: string; message: string } {
  const said = language === 'en' || !p.words ? p.message : render(language, p.words);
  return { path: p.path, ...(p.code ? { code: p.code } : {}), message: said };
}
