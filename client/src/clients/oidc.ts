// The OpenID Connect section of the applications page (issue 16): the registered clients, a
// registration form, and per client: a new secret (shown once), new redirect URIs, disable and
// enable. Each change goes through step-up; a client from the config file is read-only.
import { ApiError, api, busy, byId, clearMessages, focusElement, formatDate, setStatus, showError, t, tn } from '../common.js';
import { button, confirmAction, el, hidden, ialWords } from '../console.js';
import { stepUpApi } from '../stepUp.js';
import { showSecretOnce } from './secretBox.js';

interface ClientView {
  clientId: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  authMethod: 'client_secret_basic' | 'private_key_jwt';
  minLoa: string;
  backchannelLogoutUri: string | null;
  createdAt: string;
  disabledAt: string | null;
  source: 'config' | 'console';
}

const lines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

const path = (c: ClientView, what: string) => `/api/admin/oidc-clients/${encodeURIComponent(c.clientId)}/${what}`;

export function setUpOidcClients(accessLost: (err: unknown) => boolean): { load(): Promise<void> } {
  const body = byId<HTMLTableSectionElement>('oidc-body');
  const result = byId('oidc-result');
  const edit = byId('oidc-edit');
  const form = byId<HTMLFormElement>('oidc-form');
  const submit = byId<HTMLButtonElement>('oidc-submit');
  const authMethod = byId<HTMLSelectElement>('oidc-auth-method');
  const jwksField = byId('oidc-jwks-field');

  const fail = (err: unknown, opts: { context?: string; form?: HTMLFormElement } = {}) => {
    if (!accessLost(err)) showError(err, opts);
  };

  authMethod.addEventListener('change', () => {
    jwksField.hidden = authMethod.value !== 'private_key_jwt';
  });

  const row = (c: ClientView): HTMLTableRowElement => {
    const tr = el('tr', 'oidc-row');
    tr.dataset['clientId'] = c.clientId;
    const name = el('th', undefined, c.name, el('br'), el('code', undefined, c.clientId));
    name.scope = 'row';
    const uris = el('ul', undefined, ...c.redirectUris.map((u) => el('li', undefined, el('code', undefined, u))));
    uris.className = 'plain-list';
    const state = el('td', 'oidc-state', c.disabledAt ? t('clients.disabled') : t('clients.enabled'));
    if (c.disabledAt) state.append(' ', formatDate(c.disabledAt));
    const actions = el('td');
    if (c.source === 'config') {
      actions.append(el('span', 'oidc-read-only', t('clients.readOnly')));
    } else {
      const list = el('div');
      list.className = 'actions-cell';
      if (c.authMethod === 'client_secret_basic') {
        const rotate = button(tn('clients.oidc.rotate', { client: c.name, hidden }), 'oidc-rotate', 'secondary');
        rotate.addEventListener('click', () => void rotateSecret(c, rotate));
        list.append(rotate);
      }
      const change = button(tn('clients.oidc.editUris', { client: c.name, hidden }), 'oidc-edit-uris', 'secondary');
      change.addEventListener('click', () => openUriEditor(c));
      list.append(change);
      const toggle = c.disabledAt
        ? button(tn('clients.oidc.enable', { client: c.name, hidden }), 'oidc-enable', 'secondary')
        : button(tn('clients.oidc.disable', { client: c.name, hidden }), 'oidc-disable', 'danger');
      toggle.addEventListener('click', () => void setEnabled(c, c.disabledAt !== null, toggle));
      list.append(toggle);
      actions.append(list);
    }
    tr.append(name, el('td', undefined, uris), el('td', undefined, t(`clients.oidc.auth.${c.authMethod}`), el('br'), ialWords(c.minLoa)), state, actions);
    return tr;
  };

  async function load(): Promise<void> {
    try {
      const { clients } = await api<{ clients: ClientView[] }>('GET', '/api/admin/oidc-clients');
      body.replaceChildren(...clients.map(row));
      byId('oidc-none').hidden = clients.length > 0;
      byId('oidc-table-wrap').hidden = clients.length === 0;
    } catch (err) {
      fail(err, { context: t('clients.loadFailed') });
    }
  }

  async function rotateSecret(c: ClientView, b: HTMLButtonElement): Promise<void> {
    clearMessages();
    const ok = await confirmAction({
      heading: t('clients.oidc.confirmRotate.heading'),
      paragraphs: [t('clients.oidc.confirmRotate.text', { client: c.name })],
      confirm: t('clients.oidc.confirmRotate.ok'),
    });
    if (!ok) return;
    try {
      const r = await busy(b, null, () => stepUpApi<{ clientId: string; clientSecret: string }>('POST', path(c, 'secret'), {}));
      showSecretOnce(result, t('clients.oidc.secret.intro', { client: c.name }), r.clientSecret);
    } catch (err) {
      fail(err);
    }
  }

  async function setEnabled(c: ClientView, enabled: boolean, b: HTMLButtonElement): Promise<void> {
    clearMessages();
    if (!enabled) {
      const ok = await confirmAction({
        heading: t('clients.oidc.confirmDisable.heading'),
        paragraphs: [t('clients.oidc.confirmDisable.text', { client: c.name })],
        confirm: t('clients.oidc.confirmDisable.ok'),
      });
      if (!ok) return;
    }
    try {
      await busy(b, null, () => stepUpApi('POST', path(c, enabled ? 'enable' : 'disable'), {}));
      await load();
      setStatus(enabled ? t('clients.oidc.enabledDone', { client: c.name }) : t('clients.oidc.disabledDone', { client: c.name }));
    } catch (err) {
      fail(err);
    }
  }

  function openUriEditor(c: ClientView): void {
    clearMessages();
    const f = el('form', 'oidc-uris-form');
    f.noValidate = true;
    const heading = el('h3', undefined, ...tn('clients.oidc.editUris', { client: c.name, hidden: (n) => el('span', undefined, ...n) }));
    heading.id = 'oidc-uris-heading';
    heading.tabIndex = -1;
    f.setAttribute('aria-labelledby', heading.id);
    const field = (id: string, label: string, name: string, value: string[], required: boolean) => {
      const l = el('label', undefined, label);
      l.htmlFor = id;
      const area = el('textarea', id);
      area.id = id;
      area.name = name;
      area.rows = 3;
      area.spellcheck = false;
      area.required = required;
      area.value = value.join('\n');
      const d = el('div', undefined, l, area);
      d.className = 'field';
      return d;
    };
    const save = button(t('clients.oidc.uris.save'), 'oidc-uris-save');
    save.type = 'submit';
    f.append(
      field('oidc-edit-redirect', t('clients.oidc.redirectUris'), 'redirectUris', c.redirectUris, true),
      field('oidc-edit-post-logout', t('clients.oidc.postLogoutUris'), 'postLogoutRedirectUris', c.postLogoutRedirectUris, false),
      save,
    );
    f.addEventListener('submit', (event) => {
      event.preventDefault();
      void (async () => {
        clearMessages();
        const data = new FormData(f);
        try {
          await busy(save, f, () =>
            stepUpApi('POST', path(c, 'redirect-uris'), {
              redirectUris: lines(String(data.get('redirectUris') ?? '')),
              postLogoutRedirectUris: lines(String(data.get('postLogoutRedirectUris') ?? '')),
            }),
          );
          edit.replaceChildren();
          await load();
          setStatus(t('clients.oidc.urisSaved', { client: c.name }));
        } catch (err) {
          if (err instanceof ApiError && err.status === 400) showError(err, { form: f });
          else fail(err);
        }
      })();
    });
    edit.replaceChildren(heading, f);
    focusElement(heading);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      clearMessages();
      if (!form.reportValidity()) return;
      const data = new FormData(form);
      const method = String(data.get('authMethod') ?? '');
      let jwks: unknown;
      if (method === 'private_key_jwt') {
        try {
          jwks = JSON.parse(String(data.get('jwks') ?? ''));
        } catch {
          showError(new Error(t('clients.oidc.jwksInvalid')));
          return;
        }
      }
      const backchannel = String(data.get('backchannelLogoutUri') ?? '').trim();
      const name = String(data.get('name') ?? '');
      try {
        const r = await busy(submit, form, () =>
          stepUpApi<{ clientId: string; clientSecret?: string }>('POST', '/api/admin/oidc-clients', {
            clientId: String(data.get('clientId') ?? ''),
            name,
            redirectUris: lines(String(data.get('redirectUris') ?? '')),
            postLogoutRedirectUris: lines(String(data.get('postLogoutRedirectUris') ?? '')),
            authMethod: method,
            minLoa: String(data.get('minLoa') ?? ''),
            ...(backchannel ? { backchannelLogoutUri: backchannel } : {}),
            ...(jwks !== undefined ? { jwks } : {}),
          }),
        );
        form.reset();
        jwksField.hidden = true;
        await load();
        setStatus(t('clients.oidc.registered', { client: name }));
        if (r.clientSecret) showSecretOnce(result, t('clients.oidc.secret.intro', { client: name }), r.clientSecret);
      } catch (err) {
        if (err instanceof ApiError && err.status === 400) showError(err, { form });
        else fail(err);
      }
    })();
  });

  return { load };
}
