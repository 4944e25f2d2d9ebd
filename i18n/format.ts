/**
 * The message syntax of the catalogues, and its one interpreter for pages (DOM nodes), the
 * server-rendered pages (escaped HTML) and plain text:
 *
 * - `{name}`: a value put in (a person's name, a count, an element of the page);
 * - `<name>words</name>`: words wrapped by the caller (a link, <strong>), so a translation can
 *   move the link within its sentence. Tags do not nest into themselves; `{…}` may sit inside.
 *
 * No other markup: a catalogue never holds HTML, so a translation cannot inject any.
 */

export type Token = { kind: 'text'; text: string } | { kind: 'param'; name: string } | { kind: 'tag'; name: string; children: Token[] };

/** Names of the `{…}` placeholders of a message type (e.g. "Hello {name}" -> "name"). */
export type PlaceholderNames<S extends string> = S extends `${string}{${infer P}}${infer R}` ? P | PlaceholderNames<R> : never;
/** Names of the `<…>` tags of a message type (e.g. "<link>here</link>" -> "link"). */
export type TagNames<S extends string> = S extends `${string}<${infer T}>${infer R}` ? (T extends `/${string}` ? TagNames<R> : T | TagNames<R>) : never;

const TOKEN = /\{([A-Za-z][A-Za-z0-9]*)\}|<(\/?)([A-Za-z][A-Za-z0-9]*)>/g;

const cache = new Map<string, Token[]>();

/** The tokens of a message; throws TypeError for an unbalanced tag (a catalogue bug the tests catch). */
export function parseMessage(message: string): Token[] {
  const hit = cache.get(message);
  if (hit) return hit;
  const root: Token[] = [];
  const stack: Array<{ name: string; children: Token[] }> = [];
  let into = root;
  let last = 0;
  for (const m of message.matchAll(TOKEN)) {
    const at = m.index ?? 0;
    if (at > last) into.push({ kind: 'text', text: message.slice(last, at) });
    last = at + m[0].length;
    if (m[1]) {
      into.push({ kind: 'param', name: m[1] });
    } else if (m[2] === '/') {
      const open = stack.pop();
      if (!open || open.name !== m[3]) throw new TypeError(`Unbalanced </${m[3]}> in message: ${message}`);
      into = stack.at(-1)?.children ?? root;
    } else {
      const tag: Token = { kind: 'tag', name: m[3] ?? '', children: [] };
      into.push(tag);
      stack.push({ name: tag.name, children: tag.children });
      into = tag.children;
    }
  }
  if (stack.length > 0) throw new TypeError(`Unclosed <${stack.at(-1)?.name}> in message: ${message}`);
  if (last < message.length) into.push({ kind: 'text', text: message.slice(last) });
  cache.set(message, root);
  return root;
}

/** How to turn tokens into T: words, a placeholder by name, a tag around its rendered children. */
export interface Renderer<T> {
  text(text: string): T;
  param(name: string): T;
  tag(name: string, children: T[]): T;
}

export function renderTokens<T>(tokens: readonly Token[], r: Renderer<T>): T[] {
  return tokens.map((t) => (t.kind === 'text' ? r.text(t.text) : t.kind === 'param' ? r.param(t.name) : r.tag(t.name, renderTokens(t.children, r))));
}

/** The placeholder and tag names a message uses (the catalogue test compares them across languages). */
export function namesIn(message: string): { params: string[]; tags: string[] } {
  const params = new Set<string>();
  const tags = new Set<string>();
  const walk = (tokens: readonly Token[]): void => {
    for (const t of tokens) {
      if (t.kind === 'param') params.add(t.name);
      if (t.kind === 'tag') {
        tags.add(t.name);
        walk(t.children);
      }
    }
  };
  walk(parseMessage(message));
  return { params: [...params].sort(), tags: [...tags].sort() };
}

/** Plain text: placeholders filled, tags dropped (their words kept). A missing value shows its name. */
export function formatPlain(message: string, params: Readonly<Record<string, string | number>> = {}): string {
  return renderTokens(parseMessage(message), {
    text: (s) => s,
    param: (name) => (name in params ? String(params[name]) : `{${name}}`),
    tag: (_name, children) => children.join(''),
  }).join('');
}
