/** Small DOM and word helpers of the security page. */
import { t, wrapIn } from '../common.js';
import { state } from './state.js';
import type { KeyState, RequestKind } from './types.js';

export const keyStateWords = (state: KeyState): string => t(`security.keyState.${state}`);
export const kindWords = (kind: RequestKind): string => t(`security.kind.${kind}`);
export const strong = wrapIn('strong');

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, testid?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (testid) e.dataset['testid'] = testid;
  e.append(...children);
  return e;
}

export function hiddenText(text: string): HTMLSpanElement {
  const s = el('span', undefined, text);
  s.className = 'visually-hidden';
  return s;
}

/** Words only screen readers read (a <hidden> tag). */
export const hidden = wrapIn('span', (s) => (s.className = 'visually-hidden'));

export function shortKid(kid: string): string {
  return kid.length > 14 ? `${kid.slice(0, 8)}…${kid.slice(-4)}` : kid;
}

/** A key id in monospace, shortened on screen; the full value in the title and for screen readers. */
export function kidElement(kid: string, testid?: string): HTMLElement {
  const code = el('code', testid);
  code.className = 'kid';
  code.title = kid;
  const visible = el('span', undefined, shortKid(kid));
  visible.setAttribute('aria-hidden', 'true');
  code.append(visible, hiddenText(kid));
  return code;
}

export function officerText(id: string | null, name?: string | null): HTMLElement | string {
  if (!id) return t('common.none');
  if (state.me && id === state.me.id) return t('common.you');
  const span = el('span', undefined, name ?? t('security.anotherOfficer', { id: id.slice(0, 8) }));
  span.title = id;
  return span;
}
