/** The HSM overview and the signing keys table with each key's HSM attribute check. */
import { byId, fromServer, t, timeElement, tn } from '../common.js';
import { el, keyStateWords, kidElement, strong } from './dom.js';
import { state } from './state.js';
import type { AttributeCheck, HsmOverview, SigningKey } from './types.js';

export const keysBody = byId<HTMLTableSectionElement>('keys-body');

/** The key policy profile in force and the HSM tokens (several when they fail over to each other). */
export function renderHsm(hsm: HsmOverview | undefined): void {
  const box = byId('hsm-overview');
  box.hidden = !hsm;
  if (!hsm) return;
  const policy = byId('key-policy');
  policy.replaceChildren(...tn('security.policyLine', { strong, profile: el('code', 'key-policy-profile', hsm.keyPolicy), words: t(`security.policy.${hsm.keyPolicy}`) }));
  policy.dataset['profile'] = hsm.keyPolicy;
  const intro = hsm.tokens.length > 1 ? t('security.tokens.several', { count: hsm.tokens.length }) : t('security.tokens.single');
  byId('hsm-tokens').setAttribute('aria-label', intro);
  byId('hsm-tokens').replaceChildren(
    ...hsm.tokens.map((token) => {
      const state = el('span', undefined, token.status === 'ok' ? (token.signing ? t('security.token.signing') : t('security.token.available')) : t('security.token.unavailable'));
      state.className = token.status === 'ok' ? 'token-ok' : 'token-down';
      const li = el('li', 'hsm-token', ...tn('security.token.line', { strong, name: token.name, label: token.tokenLabel, state }));
      li.dataset['status'] = token.status;
      return li;
    }),
  );
}

export function renderKeys(): void {
  keysBody.replaceChildren(...state.keys.map(keyRow));
  byId('no-keys').hidden = state.keys.length > 0;
}

export function keyRow(k: SigningKey): HTMLTableRowElement {
  const tr = el('tr', 'key-row');
  tr.dataset['kid'] = k.kid;
  tr.dataset['state'] = k.state;

  const stateText = el('span', 'key-state-text', keyStateWords(k.state));
  stateText.className = `state state-${k.state}`;
  const state = el('td', 'key-state', stateText);
  if (k.compromisedAt) state.append(el('br'), el('span', 'key-compromised', ...tn('security.key.compromised', { date: timeElement(k.compromisedAt) })));

  const kid = el('th', 'key-kid', kidElement(k.kid));
  kid.scope = 'row';

  const activated = el('td', 'key-activated');
  if (k.activatedAt) activated.append(timeElement(k.activatedAt));
  else if (k.state === 'pending' && k.promoteAt) activated.append(...tn('security.key.startsSigning', { date: timeElement(k.promoteAt) }));
  else activated.append(t('common.none'));

  const retired = el('td', 'key-retired');
  if (k.retiredAt) {
    retired.append(...tn('security.key.retired', { date: timeElement(k.retiredAt) }));
    if (k.destroyedAt) retired.append(el('br'), ...tn('security.key.destroyed', { date: timeElement(k.destroyedAt) }));
    else if (k.publishedUntil) retired.append(el('br'), ...tn('security.key.publishedUntil', { date: timeElement(k.publishedUntil) }));
  } else if (k.destroyedAt) {
    retired.append(...tn('security.key.destroyed', { date: timeElement(k.destroyedAt) }));
  } else {
    retired.append(t('common.none'));
  }

  tr.append(
    state,
    el('td', 'key-alg', k.alg),
    kid,
    el('td', 'key-created', timeElement(k.createdAt)),
    activated,
    retired,
    attributeCell(k.attributeCheck),
  );
  return tr;
}

export function attributeCell(check: AttributeCheck | null): HTMLTableCellElement {
  const td = el('td', 'key-attribute-check');
  if (!check) {
    const none = el('span', undefined, t('security.check.notInHsm'));
    none.className = 'check-none';
    td.append(none);
    return td;
  }
  td.dataset['ok'] = String(check.ok);
  const tokens = check.tokens ?? [];
  const missing = tokens.filter((t) => t.status === 'ok' && !t.present).map((t) => t.token);
  const down = tokens.filter((t) => t.status !== 'ok').map((t) => t.token);
  const onTokens = (): HTMLElement | string => {
    if (tokens.length < 2 && down.length === 0) return '';
    const list = (names: string[]): string => names.join(t('console.listSeparator'));
    const present = list(tokens.filter((x) => x.present).map((x) => x.token));
    const parts = [t('security.check.on', { tokens: present || t('security.check.noToken') })];
    if (missing.length > 0) parts.push(t('security.check.notOn', { tokens: list(missing) }));
    if (down.length > 0) parts.push(t('security.check.unavailable', { tokens: list(down) }));
    const span = el('span', 'key-check-tokens', parts.join(t('security.check.partsSeparator')));
    span.className = 'check-tokens';
    return span;
  };
  if (check.ok) {
    const ok = el('span', undefined, t('security.check.ok'));
    ok.className = 'check-ok';
    td.append(ok, onTokens());
    return td;
  }
  const bad = el('div');
  bad.className = 'check-bad';
  if (check.error) bad.append(el('span', undefined, ...tn('security.check.failed', { error: fromServer(check.error) })));
  if (check.violations.length > 0) {
    bad.append(el('span', undefined, t('security.check.violates')), el('ul', undefined, ...check.violations.map((v) => el('li', 'key-violation', fromServer(v)))));
  } else if (!check.error) {
    bad.append(el('span', undefined, t('security.check.notOk')));
  }
  td.append(bad, onTokens());
  return td;
}
