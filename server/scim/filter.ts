/**
 * SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2) parsed into a typed tree whose
 * attribute names are the canonical ones of the schema table, matched case-insensitively
 * (RFC 7643 §2.1), as are the operators and `and`/`or`/`not`.
 *
 * Besides the RFC grammar, the form Microsoft Entra ID sends is accepted:
 * `emails[type eq "work"].value eq "a@b.dk"` means `emails[type eq "work" and value eq "a@b.dk"]`.
 *
 * Limits keep a hostile filter cheap: length, tokens and nesting depth are capped.
 */
import { ScimError } from './errors.js';
import { type RawAttrPath, SyntaxProblem, type Token, splitAttrPath, tokenize } from './filterSyntax.js';
import { type AttributeDef, type ResourceKind, resolveAttribute, resolveSubAttribute } from './schemaTable.js';

export const COMPARE_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
export type FilterValue = string | number | boolean | null;

/** A resolved attribute reference, canonical names. Inside a valuePath, `attribute` is the sub-attribute. */
export interface AttrRef {
  /** Schema URN of an extension attribute (its values live under that key). */
  readonly extension?: string;
  readonly attribute: string;
  readonly subAttribute?: string;
}

export type Filter =
  | { readonly kind: 'and' | 'or'; readonly left: Filter; readonly right: Filter }
  | { readonly kind: 'not'; readonly filter: Filter }
  | { readonly kind: 'present'; readonly path: AttrRef }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly path: AttrRef; readonly value: FilterValue }
  /** Some element of the multi-valued `path.attribute` satisfies `filter` (its paths name sub-attributes). */
  | { readonly kind: 'valuePath'; readonly path: AttrRef; readonly filter: Filter };

export interface FilterLimits {
  maxLength: number;
  maxTokens: number;
  maxDepth: number;
}

export const DEFAULT_FILTER_LIMITS: Readonly<FilterLimits> = Object.freeze({ maxLength: 2048, maxTokens: 200, maxDepth: 16 });

/** Where names resolve: the resource's attributes, or the sub-attributes inside `attr[...]`. */
type Scope = { kind: ResourceKind; parent: AttributeDef | undefined };

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly limits: FilterLimits,
    private readonly fail: (message: string) => never,
  ) {}

  done(): boolean {
    return this.i >= this.tokens.length;
  }
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  keyword(word: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'word' && t.v.toLowerCase() === word;
  }
  expect(t: '(' | ')' | '[' | ']'): void {
    const tok = this.next();
    if (!tok || tok.t !== t) this.fail(`expected "${t}"${tok ? ` at position ${tok.at + 1}` : ' at the end'}`);
  }

  /** or-expression: and-expressions joined by `or` (the weakest binding, §3.4.2.2 Table 4). */
  parseOr(scope: Scope, depth: number): Filter {
    if (depth > this.limits.maxDepth) this.fail(`nesting deeper than ${this.limits.maxDepth}`);
    let left = this.parseAnd(scope, depth);
    while (this.keyword('or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd(scope, depth) };
    }
    return left;
  }

  parseAnd(scope: Scope, depth: number): Filter {
    let left = this.parseUnary(scope, depth);
    while (this.keyword('and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseUnary(scope, depth) };
    }
    return left;
  }

  parseUnary(scope: Scope, depth: number): Filter {
    const t = this.peek();
    if (t === undefined) this.fail('the filter ends where an expression is expected');
    if (t.t === '(') {
      this.next();
      const inner = this.parseOr(scope, depth + 1);
      this.expect(')');
      return inner;
    }
    if (this.keyword('not') && this.tokens[this.i + 1]?.t === '(') {
      this.next();
      this.next();
      const inner = this.parseOr(scope, depth + 1);
      this.expect(')');
      return { kind: 'not', filter: inner };
    }
    return this.parseAttrExp(scope, depth);
  }

  parseAttrExp(scope: Scope, depth: number): Filter {
    const t = this.next();
    if (!t || t.t !== 'word') this.fail(`expected an attribute path${t ? ` at position ${t.at + 1}` : ''}`);
    const raw = this.rawPath(t.v, t.at);
    if (this.peek()?.t === '[') {
      if (scope.parent) this.fail('a value filter cannot be nested in another');
      if (raw.subAttribute !== undefined) this.fail(`"${t.v}[" : a value filter follows the attribute, not a sub-attribute`);
      this.next();
      const { ref, def } = this.resolveTop(scope.kind, raw);
      if (!def.multiValued || def.type !== 'complex') this.fail(`"${def.name}" is not a multi-valued complex attribute`);
      const inner = this.parseOr({ kind: scope.kind, parent: def }, depth + 1);
      this.expect(']');
      // Entra's form: attr[filter].sub op value
      const after = this.peek();
      if (after?.t === 'word' && after.v.startsWith('.')) {
        this.next();
        const sub = this.resolveSub(def, after.v.slice(1));
        const tail = this.parseComparison({ attribute: sub.name }, sub);
        return { kind: 'valuePath', path: ref, filter: { kind: 'and', left: inner, right: tail } };
      }
      return { kind: 'valuePath', path: ref, filter: inner };
    }
    if (scope.parent) {
      if (raw.schema !== undefined || raw.subAttribute !== undefined) this.fail(`"${t.v}" is not a sub-attribute of ${scope.parent.name}`);
      const sub = this.resolveSub(scope.parent, raw.attribute);
      return this.parseComparison({ attribute: sub.name }, sub);
    }
    const { ref, def } = this.resolveTop(scope.kind, raw);
    let target = def;
    let path = ref;
    if (raw.subAttribute !== undefined) {
      target = this.resolveSub(def, raw.subAttribute);
      path = { ...ref, subAttribute: target.name };
    } else if (def.type === 'complex' && !this.keyword('pr')) {
      // RFC 7644 §3.4.2.2: a complex attribute without a sub-attribute compares its "value".
      const value = resolveSubAttribute(def, 'value');
      if (!value) this.fail(`"${def.name}" is complex: name a sub-attribute`);
      target = value;
      path = { ...ref, subAttribute: value.name };
    }
    return this.parseComparison(path, target);
  }

  parseComparison(path: AttrRef, def: AttributeDef): Filter {
    const opTok = this.next();
    if (!opTok || opTok.t !== 'word') this.fail(`expected an operator after "${path.subAttribute ?? path.attribute}"`);
    const op = opTok.v.toLowerCase();
    if (op === 'pr') return { kind: 'present', path };
    const compareOp = COMPARE_OPS.find((o) => o === op);
    if (!compareOp) this.fail(`"${opTok.v}" is not an operator (eq ne co sw ew gt ge lt le pr)`);
    const valTok = this.next();
    let value: FilterValue;
    if (valTok?.t === 'string' || valTok?.t === 'number') value = valTok.v;
    else if (valTok?.t === 'word' && ['true', 'false', 'null'].includes(valTok.v.toLowerCase())) {
      const w = valTok.v.toLowerCase();
      value = w === 'null' ? null : w === 'true';
    } else this.fail(`expected a value after "${opTok.v}"`);
    this.checkType(def, compareOp, value);
    return { kind: 'compare', op: compareOp, path, value };
  }

  checkType(def: AttributeDef, op: CompareOp, value: FilterValue): void {
    if (value === null) {
      if (op !== 'eq' && op !== 'ne') this.fail(`"${op}" cannot compare with null`);
      return;
    }
    if (def.type === 'boolean') {
      if (typeof value !== 'boolean') this.fail(`"${def.name}" is boolean: compare it with true or false`);
      if (op !== 'eq' && op !== 'ne') this.fail(`"${op}" does not apply to the boolean "${def.name}"`);
      return;
    }
    if (typeof value !== 'string') this.fail(`"${def.name}" is a string: compare it with a quoted value`);
    if (def.type === 'dateTime' && Number.isNaN(Date.parse(value))) this.fail(`"${value}" is not a dateTime`);
  }

  rawPath(word: string, at: number): RawAttrPath {
    try {
      return splitAttrPath(word, at);
    } catch (err) {
      if (err instanceof SyntaxProblem) this.fail(err.message);
      throw err;
    }
  }

  resolveTop(kind: ResourceKind, raw: RawAttrPath): { ref: AttrRef; def: AttributeDef } {
    const hit = resolveAttribute(kind, raw.schema, raw.attribute);
    if (!hit) this.fail(`"${raw.schema ? `${raw.schema}:` : ''}${raw.attribute}" is not an attribute of ${kind}`);
    if (!hit.def.kept) this.fail(`"${hit.def.name}" is not kept by this service provider and cannot be filtered on`);
    return { ref: hit.extension ? { extension: hit.extension, attribute: hit.def.name } : { attribute: hit.def.name }, def: hit.def };
  }

  resolveSub(parent: AttributeDef, name: string): AttributeDef {
    const sub = resolveSubAttribute(parent, name);
    if (!sub) this.fail(`"${name}" is not a sub-attribute of ${parent.name}`);
    if (!sub.kept) this.fail(`"${parent.name}.${sub.name}" is not kept by this service provider and cannot be filtered on`);
    return sub;
  }
}

function tokensOf(text: string, limits: FilterLimits, fail: (m: string) => never): Token[] {
  if (text.length > limits.maxLength) fail(`longer than ${limits.maxLength} characters`);
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (err) {
    if (err instanceof SyntaxProblem) fail(`${err.message} (position ${err.at + 1})`);
    throw err;
  }
  if (tokens.length === 0) fail('empty');
  if (tokens.length > limits.maxTokens) fail(`more than ${limits.maxTokens} tokens`);
  return tokens;
}

/** Parses a `filter` query parameter; throws ScimError invalidFilter (400) on anything wrong. */
export function parseFilter(kind: ResourceKind, text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): Filter {
  const fail = (message: string): never => {
    throw ScimError.of('invalidFilter', `The filter is not valid: ${message}.`);
  };
  const parser = new Parser(tokensOf(text, limits, fail), limits, fail);
  const filter = parser.parseOr({ kind, parent: undefined }, 0);
  if (!parser.done()) fail(`unexpected "${describe(parser.peek())}" at position ${(parser.peek()?.at ?? 0) + 1}`);
  return filter;
}

function describe(t: Token | undefined): string {
  if (!t) return '';
  return t.t === 'word' || t.t === 'string' ? String(t.v) : t.t === 'number' || t.t === 'literal' ? String(t.v) : t.t;
}

/** A PATCH target (RFC 7644 §3.5.2: path = attrPath / valuePath [subAttr]). */
export interface PatchPath {
  readonly attribute: AttributeDef;
  readonly extension: string | undefined;
  /** Sub-attribute after the attribute (`name.givenName`) or after the value filter (`emails[...].value`). */
  readonly subAttribute: AttributeDef | undefined;
  /** The value filter selecting elements of a multi-valued attribute. */
  readonly valueFilter: Filter | undefined;
}

/**
 * Parses a PATCH `path`; throws invalidPath (400). Unlike filters, attributes not kept are
 * resolved (the operation is then ignored), so Entra's default mappings do not fail.
 */
export function parsePatchPath(kind: ResourceKind, text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): PatchPath {
  const fail = (message: string): never => {
    throw ScimError.of('invalidPath', `The path "${text.slice(0, 200)}" is not valid: ${message}.`);
  };
  const tokens = tokensOf(text, limits, fail);
  const [first, second] = tokens;
  if (!first || first.t !== 'word') return fail('it must start with an attribute');
  let raw: RawAttrPath;
  try {
    raw = splitAttrPath(first.v, first.at);
  } catch (err) {
    if (err instanceof SyntaxProblem) return fail(err.message);
    throw err;
  }
  const hit = resolveAttribute(kind, raw.schema, raw.attribute);
  if (!hit) return fail(`"${raw.attribute}" is not an attribute of ${kind}`);
  const sub = (name: string): AttributeDef => resolveSubAttribute(hit.def, name) ?? fail(`"${name}" is not a sub-attribute of ${hit.def.name}`);
  if (tokens.length === 1) {
    return { attribute: hit.def, extension: hit.extension, subAttribute: raw.subAttribute === undefined ? undefined : sub(raw.subAttribute), valueFilter: undefined };
  }
  if (second?.t !== '[' || raw.subAttribute !== undefined) return fail('expected "[" after the attribute');
  if (!hit.def.multiValued || hit.def.type !== 'complex') return fail(`"${hit.def.name}" is not a multi-valued complex attribute`);
  const close = tokens.findIndex((t) => t.t === ']');
  if (close < 0) return fail('the value filter is not closed');
  const parser = new Parser(tokens.slice(2, close), limits, fail);
  const valueFilter = parser.parseOr({ kind, parent: hit.def }, 1);
  if (!parser.done()) fail('unexpected text inside the value filter');
  const rest = tokens.slice(close + 1);
  if (rest.length === 0) return { attribute: hit.def, extension: hit.extension, subAttribute: undefined, valueFilter };
  const [tail] = rest;
  if (rest.length !== 1 || tail?.t !== 'word' || !tail.v.startsWith('.')) return fail('unexpected text after the value filter');
  return { attribute: hit.def, extension: hit.extension, subAttribute: sub(tail.v.slice(1)), valueFilter };
}
