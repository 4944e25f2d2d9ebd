/**
 * Issue 16: every word a page shows comes from the catalogue of its language (i18n/<language>/).
 * The pages' HTML holds no words of its own (only data-i18n keys), and no script of the pages or
 * of the server-rendered pages holds a sentence or a capitalised word in a string: a word added
 * to a page without the catalogue fails here, before any browser runs. The browser test
 * (test/e2e/languages.browser.test.ts) then checks what each page really shows.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { CATALOGUES, LANGUAGES, isLanguage, type MessageKey } from '../../i18n/index.js';
import { repoRoot } from '../support/testGateway.js';

const CLIENT = path.join(repoRoot, 'client');
const HTML_FILES = fs.readdirSync(CLIENT).filter((f) => f.endsWith('.html'));
const SCRIPT_FILES = [
  // Every script of the pages, in client/src and each folder under it.
  ...(fs.readdirSync(path.join(CLIENT, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join('client', 'src', f)),
  // (pageStyles.ts is the stylesheet of those pages: CSS, no words.)
  ...fs
    .readdirSync(path.join(repoRoot, 'server', 'http', 'views'))
    .filter((f) => f.endsWith('.ts') && f !== 'pageStyles.ts')
    .map((f) => path.join('server', 'http', 'views', f)),
  path.join('server', 'http', 'errorPage.ts'),
  // The mails are in the recipient's language too (issue 16): their words are in the catalogues.
  path.join('server', 'lifecycle', 'mails.ts'),
  path.join('server', 'duties', 'mails.ts'),
  path.join('server', 'approvals', 'askApprovers.ts'),
];

/**
 * Strings in the scripts that look like words and are not: each with why. Anything else that
 * looks like a sentence or a capitalised word is a word a person would read.
 */
const NOT_WORDS: ReadonlyArray<{ file: string; literal: string; why: string }> = [
  { file: 'client/src/helpdesk/approvals.ts', literal: 'hand over', why: 'matched in the server’s (English) item line, never shown' },
  { file: 'client/src/helpdesk/approvals.ts', literal: 'valid until ([0-9TZ:.+-]+)', why: 'a pattern over the server’s result line' },
];

// ------------------------------------------------------------------------ HTML

interface Tag {
  name: string;
  attrs: Record<string, string>;
  closing: boolean;
}

/** Our pages' HTML in order: tags and the text between them (enough for these hand-written pages). */
function htmlTokens(source: string): Array<Tag | string> {
  const out: Array<Tag | string> = [];
  const re = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>|([^<]+)/g;
  for (const m of source.replace(/<!doctype[^>]*>/i, '').matchAll(re)) {
    if (m[4] !== undefined) out.push(m[4]);
    else if (m[2]) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(/([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) attrs[a[1] ?? ''] = a[2] ?? a[3] ?? a[4] ?? '';
      out.push({ name: m[2].toLowerCase(), attrs, closing: m[1] === '/' });
    }
  }
  return out;
}

const VOID = new Set(['meta', 'link', 'input', 'br', 'img', 'hr']);
const WORDS = /\p{L}{2,}/u;
const USER_ATTRIBUTES = ['aria-label', 'title', 'placeholder', 'alt'];

describe('issue 16: the pages hold no words of their own, every word is from the catalogue', () => {
  for (const file of HTML_FILES) {
    it(`client/${file}: no text and no labelling attribute outside the catalogue`, () => {
      const stack: Tag[] = [];
      const problems: string[] = [];
      let keys = 0;
      for (const token of htmlTokens(fs.readFileSync(path.join(CLIENT, file), 'utf8'))) {
        if (typeof token === 'string') {
          if (!WORDS.test(token)) continue;
          const inside = stack.map((t) => t.name);
          const open = stack.at(-1);
          // Code is code, in any language; a <noscript> line is shown without the script, so it
          // carries its language and must be that language's catalogue words exactly.
          if (inside.includes('code') || inside.includes('script') || inside.includes('style')) continue;
          const staticKey = open?.attrs['data-i18n-static'];
          if (staticKey !== undefined && isLanguage(open?.attrs['lang'])) {
            const lang = open.attrs['lang'];
            assert.equal(token.trim(), (CATALOGUES[lang] as Record<string, string>)[staticKey], `${file}: <${open.name} lang=${lang}> holds ${staticKey}`);
            continue;
          }
          problems.push(`text "${token.trim().slice(0, 60)}" in <${inside.join('>') || 'root'}>`);
          continue;
        }
        if (token.closing) {
          while (stack.length > 0 && stack.pop()?.name !== token.name);
          continue;
        }
        for (const a of USER_ATTRIBUTES) if (WORDS.test(token.attrs[a] ?? '')) problems.push(`<${token.name} ${a}="${token.attrs[a]}">`);
        for (const [a, key] of Object.entries(token.attrs)) {
          if (!a.startsWith('data-i18n') || a === 'data-i18n-static') continue;
          keys++;
          assert.ok(key in CATALOGUES.en, `${file}: <${token.name} ${a}="${key}"> names a key the catalogue does not have`);
        }
        if (!VOID.has(token.name)) stack.push(token);
      }
      assert.deepEqual(problems, [], `${file}: words that are not catalogue keys`);
      assert.ok(keys > 5, `${file}: the page names its words by key (${keys} found)`);
    });
  }

  it('each page shows its words only once the script has filled them in the page language (no flash of another language)', () => {
    for (const file of HTML_FILES) {
      const source = fs.readFileSync(path.join(CLIENT, file), 'utf8');
      assert.match(source, /<html lang="en" class="i18n-pending">/, `${file}: starts pending`);
      assert.match(source, /<title data-i18n="[a-z.]+"><\/title>/, `${file}: the title is a key`);
      for (const l of LANGUAGES) assert.match(source, new RegExp(`<noscript>.*lang="${l}" data-i18n-static="common.noScript"`), `${file}: says in ${l} that it needs JavaScript`);
    }
    assert.match(fs.readFileSync(path.join(CLIENT, 'src', 'style.css'), 'utf8'), /html\.i18n-pending body > :not\(noscript\) \{ visibility: hidden; \}/);
  });
});

// --------------------------------------------------------------------- scripts

/** A string a person would read: two words, words in typographic quotes or with an ellipsis, or a capitalised word. */
function looksLikeWords(s: string): boolean {
  if (/[“”‘’«»…]/.test(s) && /\p{L}{2,}/u.test(s)) return true;
  if (/\p{L}{2,}[ \u00a0]+\p{L}/u.test(s) && /\p{Ll}/u.test(s)) return true;
  return /^\s*\p{Lu}\p{Ll}+[\s.,:;!?]*$/u.test(s);
}

const SELECTOR_METHODS = new Set(['querySelector', 'querySelectorAll', 'closest', 'matches']);

/**
 * Strings that are code by where they stand: module names, types, comparisons (never shown),
 * class names, selectors, a thrown TypeError (a bug of ours, not words for a person).
 */
function isCodeByPlace(node: ts.Node): boolean {
  // Through `a ? 'x' : 'y'` and brackets to where the value goes.
  let at: ts.Node = node;
  while (ts.isConditionalExpression(at.parent) || ts.isParenthesizedExpression(at.parent)) at = at.parent;
  const parent = at.parent;
  if (ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || ts.isExternalModuleReference(parent)) return true;
  if (ts.isLiteralTypeNode(parent)) return true;
  if (ts.isBinaryExpression(parent)) {
    const op = parent.operatorToken.kind;
    if (op === ts.SyntaxKind.EqualsEqualsEqualsToken || op === ts.SyntaxKind.ExclamationEqualsEqualsToken) return true;
    if (op === ts.SyntaxKind.EqualsToken && ts.isPropertyAccessExpression(parent.left) && parent.left.name.text === 'className') return true;
  }
  if (ts.isCallExpression(parent) && ts.isPropertyAccessExpression(parent.expression) && SELECTOR_METHODS.has(parent.expression.name.text)) return true;
  for (let p: ts.Node | undefined = parent; p; p = p.parent) {
    if (ts.isNewExpression(p) && ts.isIdentifier(p.expression) && p.expression.text === 'TypeError') return true;
    if (ts.isBlock(p) || ts.isSourceFile(p)) break;
  }
  return false;
}

describe('issue 16: the scripts of the pages hold no words, the catalogue does', () => {
  for (const file of SCRIPT_FILES) {
    it(`${file}: no sentence or capitalised word in a string`, () => {
      const source = ts.createSourceFile(file, fs.readFileSync(path.join(repoRoot, file), 'utf8'), ts.ScriptTarget.ES2022, true);
      const found: string[] = [];
      const visit = (node: ts.Node): void => {
        // The server-rendered pages' markup (html`…`): only the text between the tags can be words.
        if (ts.isTaggedTemplateExpression(node) && ts.isIdentifier(node.tag) && node.tag.text === 'html') {
          const t = node.template;
          const whole = ts.isNoSubstitutionTemplateLiteral(t) ? t.text : [t.head.text, ...t.templateSpans.map((sp) => sp.literal.text)].join('\u0000');
          for (const between of whole.replace(/<[^>]*>/g, '\u0000').split('\u0000')) {
            if (!looksLikeWords(between)) continue;
            const { line } = source.getLineAndCharacterOfPosition(node.getStart());
            found.push(`line ${line + 1}: ${JSON.stringify(between.trim().slice(0, 70))}`);
          }
          ts.forEachChild(t, (child) => {
            if (ts.isTemplateSpan(child)) visit(child.expression);
          });
          return;
        }
        const pieces: string[] = [];
        if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) pieces.push(node.text);
        if (ts.isTemplateExpression(node)) pieces.push(node.head.text, ...node.templateSpans.map((s) => s.literal.text));
        for (const piece of pieces) {
          if (!looksLikeWords(piece) || isCodeByPlace(node)) continue;
          if (NOT_WORDS.some((n) => n.file === file && piece.includes(n.literal))) continue;
          const { line } = source.getLineAndCharacterOfPosition(node.getStart());
          found.push(`line ${line + 1}: ${JSON.stringify(piece.slice(0, 70))}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
      assert.deepEqual(found, [], `${file}: words in strings (put them in i18n/<language>/ and use t())`);
    });
  }

  it('the list of strings that look like words and are not is short, and each still exists', () => {
    for (const n of NOT_WORDS) assert.ok(fs.readFileSync(path.join(repoRoot, n.file), 'utf8').includes(n.literal), `${n.file} still holds ${n.literal}`);
    assert.ok(NOT_WORDS.length <= 5);
  });

  it('the checks catch what they are for: a sentence, a capitalised word, typographic quotes; not code', () => {
    for (const s of ['Loading…', 'Sign in', 'Cancel', 'Skip to main content', '“Blue key”']) assert.ok(looksLikeWords(s), s);
    for (const s of ['GET', 'application/json', 'secondary-button', '/api/me', 'input[name="roles"]:checked', ' ', 'da-DK', '…']) assert.equal(looksLikeWords(s), false, s);
    const key: MessageKey = 'common.cancel';
    assert.equal(CATALOGUES.da[key], 'Annullér');
  });
});
