/**
 * Issue 16: every zod issue code the field messages map (server/http/fieldMessages.ts) has words in
 * both languages, with the same placeholders, and each kind of check reads as its own words.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { CATALOGUES, LANGUAGES, namesIn } from '../../i18n/index.js';
import { MAPPED_ISSUE_CODES, fieldProblems, issueWords, localisedFieldProblem } from '../../server/http/fieldMessages.js';

/** One schema and input per mapped issue code (and per kind of too_small/too_big/invalid_format). */
const CASES: { code: (typeof MAPPED_ISSUE_CODES)[number]; schema: z.ZodType; input: unknown; key: string }[] = [
  { code: 'invalid_type', schema: z.object({ a: z.string() }), input: {}, key: 'validation.required' },
  { code: 'invalid_type', schema: z.object({ a: z.string() }), input: { a: 1 }, key: 'validation.type.string' },
  { code: 'invalid_type', schema: z.object({ a: z.number() }), input: { a: 'x' }, key: 'validation.type.number' },
  { code: 'invalid_type', schema: z.object({ a: z.int() }), input: { a: 1.5 }, key: 'validation.number.integer' },
  { code: 'too_small', schema: z.object({ a: z.string().min(1) }), input: { a: '' }, key: 'validation.empty' },
  { code: 'too_small', schema: z.object({ a: z.string().min(3) }), input: { a: 'x' }, key: 'validation.string.min.other' },
  { code: 'too_big', schema: z.object({ a: z.string().max(1) }), input: { a: 'xy' }, key: 'validation.string.max.one' },
  { code: 'too_small', schema: z.object({ a: z.array(z.string()).min(2) }), input: { a: [] }, key: 'validation.array.min.other' },
  { code: 'too_big', schema: z.object({ a: z.array(z.string()).max(1) }), input: { a: ['x', 'y'] }, key: 'validation.array.max.one' },
  { code: 'too_small', schema: z.object({ a: z.number().min(5) }), input: { a: 1 }, key: 'validation.number.min' },
  { code: 'too_big', schema: z.object({ a: z.number().lt(5) }), input: { a: 9 }, key: 'validation.number.below' },
  { code: 'invalid_format', schema: z.object({ a: z.email() }), input: { a: 'x' }, key: 'validation.format.email' },
  { code: 'invalid_format', schema: z.object({ a: z.url() }), input: { a: 'x' }, key: 'validation.format.url' },
  { code: 'invalid_format', schema: z.object({ a: z.string().regex(/^\d+$/) }), input: { a: 'x' }, key: 'validation.format.regex' },
  { code: 'invalid_format', schema: z.object({ a: z.uuid() }), input: { a: 'x' }, key: 'validation.format.unknown' },
  { code: 'invalid_value', schema: z.object({ a: z.enum(['one', 'two']) }), input: { a: 'x' }, key: 'validation.oneOf' },
  { code: 'unrecognized_keys', schema: z.object({}).strict(), input: { a: 1 }, key: 'validation.unknownField' },
  { code: 'not_multiple_of', schema: z.object({ a: z.number().multipleOf(2) }), input: { a: 3 }, key: 'validation.invalid' },
  { code: 'invalid_union', schema: z.object({ a: z.union([z.string(), z.number()]) }), input: { a: true }, key: 'validation.invalid' },
  { code: 'invalid_key', schema: z.object({ a: z.record(z.string().min(2), z.string()) }), input: { a: { j: 'x' } }, key: 'validation.invalid' },
  { code: 'custom', schema: z.object({ a: z.string().refine(() => false) }), input: { a: 'x' }, key: 'validation.invalid' },
];

describe('issue 16: field messages of a refused form from the catalogues', () => {
  it('issue 16: every zod issue code we map yields catalogue words that exist in both languages with the same placeholders', () => {
    const seen = new Set<string>();
    for (const c of CASES) {
      const result = c.schema.safeParse(c.input);
      assert.equal(result.success, false, `${c.key} refuses`);
      if (result.success) continue;
      const issue = result.error.issues[0];
      assert.ok(issue);
      assert.equal(issue.code, c.code, `${c.key}: ${JSON.stringify(result.error.issues)}`);
      seen.add(issue.code);
      const w = issueWords(issue, c.input);
      assert.equal(w.key, c.key, `${c.code}: ${JSON.stringify(issue)}`);
      for (const l of LANGUAGES) {
        const said = CATALOGUES[l][w.key];
        assert.ok(said, `${w.key} in ${l}`);
        assert.deepEqual([...namesIn(said).params].sort(), Object.keys(w.params).sort(), `${w.key} in ${l} has the placeholders given`);
        const rendered = localisedFieldProblem(l, { path: 'a', code: issue.code, message: 'English', words: w });
        assert.ok(!/\{|\}/.test(rendered.message), `${w.key} in ${l} fully filled: ${rendered.message}`);
      }
    }
    assert.deepEqual([...seen].sort(), [...MAPPED_ISSUE_CODES].sort(), 'a case for every mapped code');
  });

  it('issue 16: the answer keeps path and code in every language; English keeps a schema’s own message', () => {
    const schema = z.object({ code: z.string().regex(/^\d+$/, 'must be digits'), extra: z.string().optional() }).strict();
    const input = { code: 'abc', other: 1 };
    const result = schema.safeParse(input);
    assert.equal(result.success, false);
    if (result.success) return;
    const problems = fieldProblems(result.error.issues, input, 'field', '(body)');
    const en = problems.map((p) => localisedFieldProblem('en', p));
    const da = problems.map((p) => localisedFieldProblem('da', p));
    assert.deepEqual(en, [
      { path: 'code', code: 'invalid_format', message: 'must be digits' },
      { path: 'other', code: 'unrecognized_keys', message: 'is not a known field' },
    ]);
    assert.deepEqual(da, [
      { path: 'code', code: 'invalid_format', message: 'har ikke den forventede form' },
      { path: 'other', code: 'unrecognized_keys', message: 'er ikke et kendt felt' },
    ]);
  });
});
