/**
 * What the browser tests check on every page, in each language: axe-core finds no serious or
 * critical accessibility violation, and every word a person can see or hear comes from the page
 * language's catalogue (i18n/<language>/) or is data the test put there (names, addresses, key
 * names). Each checked page is photographed at desktop width and at 390 px into
 * test-results/pages/ (git-ignored) for a person to look at.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { CATALOGUES, parseMessage, type Language, type Token } from '../../i18n/index.js';
import { repoRoot } from './testGateway.js';

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
export const SCREENSHOTS = path.join(repoRoot, 'test-results', 'pages');

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core on the page as it is now; the serious and critical violations. The engine is evaluated
 * in the page through the DevTools protocol, which the page's Content-Security-Policy (no inline
 * script) does not govern, so the page is checked exactly as it is served.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate('"axe" in window'))) await page.evaluate(axeSource);
  return page.evaluate(RUN_AXE) as Promise<AxeViolation[]>;
}

const RUN_AXE = `axe.run(document, { resultTypes: ['violations'] }).then((result) =>
  result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) })),
)`;

/**
 * Every piece of text a person meets on the page: visible text (and text only screen readers
 * read), and the aria-label, placeholder and alt attributes. Left out: code, preformatted data,
 * <time> (dates are formatted by Intl in the page language), what is typed in fields, and the
 * server's own words (marked lang="en" class="server-text" until the server speaks the language).
 */
export function textsOf(page: Page): Promise<string[]> {
  // A string, not a function: the test runner's transpiler would wrap inner functions in a helper
  // the page does not have.
  return page.evaluate(COLLECT_TEXTS) as Promise<string[]>;
}

const COLLECT_TEXTS = `(() => {
  const out = [];
  const skip = (el) => {
    for (let e = el; e; e = e.parentElement) {
      // Code, data, dates (Intl formats them in the page language), the server's own words, and what
      // is marked not to be translated (identifiers such as a clause of the standard).
      if (e.matches('script, style, noscript, pre, code, time, textarea, .server-text, [translate="no"], [hidden]')) return true;
      // Words in another language, marked so (the switch names the other language in itself).
      if (e.lang && e !== document.documentElement && e.lang !== document.documentElement.lang) return true;
      if (!e.checkVisibility({ visibilityProperty: true }) && !e.closest('dialog[open]')) return true;
    }
    return false;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = (n.textContent || '').trim();
    if (text && !skip(n.parentElement)) out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [alt]')) {
    if (skip(el)) continue;
    for (const a of ['aria-label', 'placeholder', 'alt']) {
      const v = el.getAttribute(a);
      if (v) out.push(v);
    }
  }
  out.push(document.title);
  return out;
})()`;

/** The literal pieces of every message of a language (the words around placeholders and tags). */
function piecesOf(language: Language): string[] {
  const pieces = new Set<string>();
  const walk = (tokens: readonly Token[]): void => {
    for (const t of tokens) {
      if (t.kind === 'text') for (const line of t.text.split('\n')) if (line.trim()) pieces.add(line.trim());
      if (t.kind === 'tag') walk(t.children);
    }
  };
  for (const message of Object.values(CATALOGUES[language])) walk(parseMessage(message));
  // Longest first, so a sentence is taken out whole before a word of it is.
  return [...pieces].sort((a, b) => b.length - a.length);
}

const PIECES: Record<Language, Part[]> = { da: piecesOf('da').map((p) => partOf(p.toLowerCase())), en: piecesOf('en').map((p) => partOf(p.toLowerCase())) };

/** A date and time as Intl writes it in either language ("15. jan. 2026, 13.00", "15 Jan 2026, 13:00"). */
const DATE = /\d{1,2}\.? \p{L}{3,5}\.? \d{4},? \d{1,2}[.:]\d{2}/gu;
const GAP = '\u0001';

/** A piece to take out: only whole words at its ends ("our" is not taken out of "your"). */
interface Part {
  text: string;
  re: RegExp;
}

function partOf(text: string): Part {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const start = /^\p{L}/u.test(text) ? '(?<!\\p{L})' : '';
  const end = /\p{L}$/u.test(text) ? '(?!\\p{L})' : '';
  return { text, re: new RegExp(`${start}${escaped}${end}`, 'gu') };
}

function without(text: string, parts: readonly Part[]): string {
  let out = text;
  for (const p of parts) if (out.includes(p.text)) out = out.replace(p.re, GAP);
  return out;
}

/** The words of `text` (two letters or more), leaving out codes with digits (ES256, 3.2.2). */
function wordsIn(text: string): Set<string> {
  return new Set(text.replace(/\S*\d\S*/g, ' ').match(/[\p{L}][\p{L}'’-]+/gu) ?? []);
}

/**
 * The words left in `texts` once the page language's catalogue pieces and the test's `data` are
 * taken out: each one is a word the page shows that no catalogue of that language holds. Pieces
 * are matched ignoring case (a page may lower-case a state inside a sentence). Data and pieces
 * may overlap (a key named with a word of the catalogue, a sentence holding a token's name), so
 * both orders are tried, and only a word left in both counts.
 */
export function wordsNotFromCatalogue(texts: readonly string[], language: Language, data: readonly string[]): string[] {
  const left = new Set<string>();
  const lowerData = [...data]
    .filter((d) => d.trim())
    .map((d) => d.toLowerCase())
    .sort((a, b) => b.length - a.length)
    .map(partOf);
  const pieces = PIECES[language];
  for (const original of texts) {
    const text = ` ${original.replace(/\s+/g, ' ')} `.replace(DATE, GAP).toLowerCase();
    const dataFirst = wordsIn(without(without(text, lowerData), pieces));
    const piecesFirst = wordsIn(without(without(text, pieces), lowerData));
    for (const word of dataFirst) if (piecesFirst.has(word)) left.add(`${word} (in "${original.slice(0, 80)}")`);
  }
  return [...left];
}

/** The page at desktop width and at 390 px, into test-results/pages/<language>/. */
export async function photograph(page: Page, language: Language, name: string): Promise<void> {
  const dir = path.join(SCREENSHOTS, language);
  fs.mkdirSync(dir, { recursive: true });
  const modal = (await page.locator('dialog[open]').count()) > 0;
  const before = page.viewportSize();
  for (const [size, tag] of [[DESKTOP, 'desktop'], [PHONE, '390']] as const) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(dir, `${name}-${tag}.png`), fullPage: !modal });
  }
  if (before) await page.setViewportSize(before);
}
