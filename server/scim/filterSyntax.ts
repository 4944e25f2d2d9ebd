/**
 * The lexical layer of SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2): tokens, and the
 * split of an attribute path into schema URN, attribute and sub-attribute. No meaning here: the
 * parser (filter.ts) resolves names against the schema table.
 */

export type Token =
  | { t: '(' | ')' | '[' | ']'; at: number }
  | { t: 'word'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: number; at: number }
  | { t: 'literal'; v: boolean | null; at: number };

/** A syntax error at a character position; the parser turns it into invalidFilter or invalidPath. */
export class SyntaxProblem extends Error {
  override readonly name = 'SyntaxProblem';
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const PUNCT = new Set(['(', ')', '[', ']']);

/** Reads a JSON string literal starting at `start` (a double quote); returns it and the next index. */
function readString(text: string, start: number): { value: string; end: number } {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '"') {
      const raw = text.slice(start, i + 1);
      try {
        const value: unknown = JSON.parse(raw);
        if (typeof value !== 'string') throw new SyntaxProblem('not a string', start);
        return { value, end: i + 1 };
      } catch {
        throw new SyntaxProblem('a string literal has an invalid escape', start);
      }
    }
    i++;
  }
  throw new SyntaxProblem('a string literal is not closed', start);
}

/**
 * Splits text into tokens. Words are attribute paths and keywords; `true`, `false` and `null` are
 * literals only where the grammar wants a value, so a word token keeps them as text too.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (PUNCT.has(c)) {
      tokens.push({ t: c as '(' | ')' | '[' | ']', at: i });
      i++;
      continue;
    }
    if (c === '"') {
      const { value, end } = readString(text, i);
      tokens.push({ t: 'string', v: value, at: i });
      i = end;
      continue;
    }
    let j = i;
    while (j < text.length && !/[\s()[\]"]/.test(text[j] ?? '')) j++;
    const word = text.slice(i, j);
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(word)) tokens.push({ t: 'number', v: Number(word), at: i });
    else tokens.push({ t: 'word', v: word, at: i });
    i = j;
  }
  return tokens;
}

/** An attribute path as written: optional schema URN, attribute name, optional sub-attribute. */
export interface RawAttrPath {
  schema: string | undefined;
  attribute: string;
  subAttribute: string | undefined;
}

const NAME = /^(\$ref|[A-Za-z][A-Za-z0-9_-]*)$/;

/**
 * attrPath = [URI ":"] ATTRNAME *1subAttr (RFC 7644 §3.4.2.2). A URN contains dots ("2.0") and
 * colons, so the attribute is what follows the last colon, and only there does a dot separate the
 * sub-attribute.
 */
export function splitAttrPath(word: string, at: number): RawAttrPath {
  let schema: string | undefined;
  let rest = word;
  if (word.toLowerCase().startsWith('urn:')) {
    const cut = word.lastIndexOf(':');
    schema = word.slice(0, cut);
    rest = word.slice(cut + 1);
  }
  const parts = rest.split('.');
  if (parts.length > 2) throw new SyntaxProblem(`"${word}" has more than one sub-attribute`, at);
  const [attribute = '', subAttribute] = parts;
  if (!NAME.test(attribute)) throw new SyntaxProblem(`"${word}" is not an attribute path`, at);
  if (subAttribute !== undefined && !NAME.test(subAttribute)) throw new SyntaxProblem(`"${word}" is not an attribute path`, at);
  return { schema, attribute, subAttribute };
}
