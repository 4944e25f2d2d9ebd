// The page header, the same on every page: site name, the navigation this person may use, who is
// signed in with "Sign out", and the language switch; it follows the session (session.ts).
// common.ts first: it loads the page language before anything draws.
import { busy, byId, showError } from './common.js';
import { CATALOGUES, type Language, type MessageKey } from '../../i18n/index.js';
import { addressIn, languageChosenByLink, otherLanguages, pageLanguage as i18nLanguage, switchLanguage, t, tKey, tn, wrapIn } from './i18n.js';
import { api, signOutDestination, type SignOutAnswer } from './api.js';
import { STAFF_ROLES, loadMe, onSessionChange, sessionEnded, storeLanguage, type Me } from './session.js';

export type PageName = 'signin' | 'enrol' | 'activate' | 'keys' | 'security' | 'helpdesk' | 'admin' | 'clients' | 'inbox';

/** Whether a person is signed in on this page (the header knows from /api/me). */
let signedIn = false;

/** Who sees a header link: everyone, only someone not signed in, or a signed-in person with a role. */
type Audience = 'anyone' | 'signed-out' | { role: string } | { anyRole: readonly string[] };

interface NavItem {
  href: string;
  text: MessageKey;
  page: PageName;
  /** Role links are only hints: the server checks the role again on every call. */
  audience: Audience;
}

const NAV: ReadonlyArray<NavItem> = [
  { href: '/', text: 'common.nav.signin', page: 'signin', audience: 'signed-out' },
  { href: '/activate.html', text: 'common.nav.activate', page: 'activate', audience: 'anyone' },
  { href: '/keys.html', text: 'common.nav.keys', page: 'keys', audience: 'anyone' },
  { href: '/security.html', text: 'common.nav.security', page: 'security', audience: { role: 'security-officer' } },
  { href: '/helpdesk.html', text: 'common.nav.helpdesk', page: 'helpdesk', audience: { role: 'helpdesk' } },
  { href: '/admin.html', text: 'common.nav.admin', page: 'admin', audience: { role: 'org-admin' } },
  { href: '/clients.html', text: 'common.nav.clients', page: 'clients', audience: { role: 'org-admin' } },
  { href: '/approvals.html', text: 'common.nav.inbox', page: 'inbox', audience: { anyRole: STAFF_ROLES } },
];

/** Whether a link is for `me` (null: nobody is signed in). */
function isFor(audience: Audience, me: Me | null): boolean {
  if (audience === 'anyone') return true;
  if (audience === 'signed-out') return me === null;
  if (me === null) return false;
  return 'role' in audience ? me.identity.roles.includes(audience.role) : audience.anyRole.some((r) => me.identity.roles.includes(r));
}

/**
 * Fills <header id="site-header">, the same on every page: the site name, what this person may use
 * (the main navigation), who is signed in with a "Sign out" button, and the language switch. One
 * logic for every page. Until /api/me answers, only the links for anyone show; then "Sign in"
 * shows only to someone not signed in, and each role's link only to a person with that role. The
 * header follows the session: after a sign-out, or an answer saying the session ended, it redraws.
 */
export function renderHeader(current: PageName): void {
  const header = byId('site-header');
  const title = el('p', 'site-title', wrapIn('a', (a) => (a.href = '/'))([document.createTextNode(t('common.siteTitle'))]));
  const nav = el('nav');
  nav.setAttribute('aria-label', t('common.nav.label'));
  const ul = el('ul');
  const items: { li: HTMLLIElement; audience: Audience }[] = [];
  for (const item of NAV) {
    const a = el('a', undefined, tKey(item.text));
    a.href = item.href;
    a.dataset['testid'] = `nav-${item.page}`;
    if (item.page === current) a.setAttribute('aria-current', 'page');
    const li = el('li', undefined, a);
    li.hidden = item.audience !== 'anyone';
    items.push({ li, audience: item.audience });
    ul.append(li);
  }
  nav.append(ul);

  // Who is signed in, and "Sign out": the sign-in page then says so.
  const user = el('p', 'site-user');
  user.dataset['testid'] = 'header-user';
  user.hidden = true;
  const signOut = el('button', 'header-button', t('common.header.signOut'));
  signOut.type = 'button';
  signOut.dataset['testid'] = 'header-signout';
  signOut.hidden = true;
  signOut.addEventListener('click', () => {
    void busy(signOut, null, async () => {
      let answer: SignOutAnswer;
      try {
        answer = await api<SignOutAnswer>('POST', '/api/signout', {});
      } catch (err) {
        showError(err, { context: t('common.header.signOutFailed') });
        return;
      }
      sessionEnded();
      // With SAML service providers in the session, the browser tells them (front channel) and
      // ends on the signed-out page; otherwise straight there.
      window.location.assign(signOutDestination(answer));
    });
  });
  const tools = el('div', 'site-tools', user, signOut, ...otherLanguages().map(languageLink));
  header.replaceChildren(title, nav, tools);

  const show = (me: Me | null): void => {
    signedIn = Boolean(me);
    // Issue 16: a switch link followed while signed in (from a server page) is the person's choice too.
    if (me && languageChosenByLink() && me.identity.language !== i18nLanguage()) void storeLanguage(i18nLanguage());
    for (const { li, audience } of items) li.hidden = !isFor(audience, me);
    header.dataset['session'] = me ? 'signed-in' : 'signed-out';
    user.replaceChildren(...(me ? tn('common.header.signedInAs', { name: me.identity.name, strong: wrapIn('strong') }) : []));
    user.hidden = !me;
    signOut.hidden = !me;
  };
  onSessionChange(show);
  // Not signed in, or the server unreachable: the page is used as by someone signed out.
  loadMe().then(show, () => show(null));
}

/** The switch to another language: its name in itself, remembered for every later page (and, signed in, as the person's). */
function languageLink(to: Language): HTMLAnchorElement {
  const a = el('a', 'language-switch', CATALOGUES[to]['common.language.name']);
  a.href = addressIn(to);
  a.lang = to;
  a.hreflang = to;
  a.dataset['testid'] = 'language-switch';
  a.addEventListener('click', (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    if (signedIn) void storeLanguage(to).then(() => switchLanguage(to));
    else switchLanguage(to);
  });
  return a;
}

/** A small element maker for the header. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  e.append(...children);
  return e;
}
