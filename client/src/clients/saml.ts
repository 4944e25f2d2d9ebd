// The SAML section of the applications page (issue 16): the registered service providers with
// their endpoints and certificates from the metadata, registration from a metadata file (upload
// or paste), the display name the sign-in page shows, and disable/enable. Each change goes
// through step-up; a service provider from the config file is read-only.
import { ApiError, api, busy, byId, clearMessages, focusElement, formatDate, setStatus, showError, t, tn } from '../common.js';
import { button, confirmAction, el, hidden } from '../console.js';
import { stepUpApi } from '../stepUp.js';

interface CertificateView {
  use: 'signing' | 'encryption';
  subject: string;
  validTo: string;
  sha256: string;
}
interface SpView {
  entityId: string;
  assertionConsumerServices: { binding: string; location: string }[];
  singleLogoutServices: { binding: string; location: string }[];
  certificates: CertificateView[];
  settings: { displayName?: string; disabled?: boolean };
  source: 'config' | 'admin';
}

const bindingName = (b: string): string => b.replace(/^urn:oasis:names:tc:SAML:2\.0:bindings:/, '');

export function setUpSamlProviders(accessLost: (err: unknown) => boolean): { load(): Promise<void> } {
  const body = byId<HTMLTableSectionElement>('saml-body');
  const details = byId('saml-details');
  const form = byId<HTMLFormElement>('saml-form');
  const submit = byId<HTMLButtonElement>('saml-submit');
  const file = byId<HTMLInputElement>('saml-file');
  const xml = byId<HTMLTextAreaElement>('saml-xml');

  const fail = (err: unknown, context?: string) => {
    if (!accessLost(err)) showError(err, context ? { context } : {});
  };
  const label = (sp: SpView): string => sp.settings.displayName ?? sp.entityId;

  // An uploaded file fills the text field, so what is sent is what the person can see.
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f) void f.text().then((text) => (xml.value = text));
  });

  const row = (sp: SpView): HTMLTableRowElement => {
    const tr = el('tr', 'saml-row');
    const name = el('th', undefined, label(sp), ...(sp.settings.displayName ? [el('br'), el('code', undefined, sp.entityId)] : []));
    name.scope = 'row';
    const endpoints = el('ul', undefined, ...sp.assertionConsumerServices.map((a) => el('li', undefined, t('clients.saml.acs', { location: `${a.location} (${bindingName(a.binding)})` }))));
    endpoints.className = 'plain-list';
    const state = el('td', 'saml-state', sp.settings.disabled ? t('clients.disabled') : t('clients.enabled'));
    const list = el('div');
    list.className = 'actions-cell';
    const more = button(tn('clients.saml.details', { entity: label(sp), hidden }), 'saml-show-details', 'secondary');
    more.addEventListener('click', () => showDetails(sp));
    list.append(more);
    if (sp.source === 'config') list.append(el('span', 'saml-read-only', t('clients.readOnly')));
    else {
      const toggle = sp.settings.disabled
        ? button(tn('clients.oidc.enable', { client: label(sp), hidden }), 'saml-enable', 'secondary')
        : button(tn('clients.oidc.disable', { client: label(sp), hidden }), 'saml-disable', 'danger');
      toggle.addEventListener('click', () => void setEnabled(sp, sp.settings.disabled === true, toggle));
      list.append(toggle);
    }
    tr.append(name, el('td', undefined, endpoints), state, el('td', undefined, list));
    return tr;
  };

  async function load(): Promise<void> {
    try {
      const { serviceProviders } = await api<{ serviceProviders: SpView[] }>('GET', '/api/admin/saml/service-providers');
      body.replaceChildren(...serviceProviders.map(row));
      byId('saml-none').hidden = serviceProviders.length > 0;
      byId('saml-table-wrap').hidden = serviceProviders.length === 0;
    } catch (err) {
      fail(err, t('clients.loadFailed'));
    }
  }

  /** The metadata's endpoints and certificates, and (for a console SP) its display name. */
  function showDetails(sp: SpView): void {
    clearMessages();
    const heading = el('h3', undefined, sp.entityId);
    const endpoints = el(
      'ul',
      'saml-endpoints',
      ...sp.assertionConsumerServices.map((a) => el('li', undefined, t('clients.saml.acs', { location: `${a.location} (${bindingName(a.binding)})` }))),
      ...sp.singleLogoutServices.map((s) => el('li', undefined, t('clients.saml.slo', { location: `${s.location} (${bindingName(s.binding)})` }))),
    );
    const certs = el(
      'ul',
      'saml-certificates',
      ...sp.certificates.map((c) =>
        el(
          'li',
          undefined,
          t(`clients.saml.cert.${c.use}`, { subject: c.subject.replace(/\n/g, ', '), date: formatDate(c.validTo), fingerprint: c.sha256 }),
        ),
      ),
    );
    certs.className = 'plain-list long-words';
    endpoints.className = 'plain-list long-words';
    details.replaceChildren(heading, endpoints, certs);
    if (sp.source !== 'config') {
      const f = el('form', 'saml-rename-form');
      f.noValidate = true;
      const input = el('input', 'saml-rename-input');
      input.id = 'saml-rename-input';
      input.type = 'text';
      input.maxLength = 100;
      input.autocomplete = 'off';
      input.value = sp.settings.displayName ?? '';
      const l = el('label', undefined, t('clients.saml.displayName'));
      l.htmlFor = input.id;
      const field = el('div', undefined, l, input);
      field.className = 'field';
      const save = button(t('clients.saml.rename'), 'saml-rename-save', 'secondary');
      save.type = 'submit';
      f.append(field, save);
      f.addEventListener('submit', (event) => {
        event.preventDefault();
        void (async () => {
          clearMessages();
          const displayName = input.value.trim();
          try {
            await busy(save, f, () => stepUpApi('POST', '/api/admin/saml/service-providers/settings', { entityId: sp.entityId, displayName: displayName || null }));
            details.hidden = true;
            await load();
            setStatus(t('clients.saml.renamed', { entity: displayName || sp.entityId }));
          } catch (err) {
            if (err instanceof ApiError && err.status === 400) showError(err, { form: f });
            else fail(err);
          }
        })();
      });
      details.append(f);
    }
    details.hidden = false;
    focusElement(details);
  }

  async function setEnabled(sp: SpView, enabled: boolean, b: HTMLButtonElement): Promise<void> {
    clearMessages();
    if (!enabled) {
      const ok = await confirmAction({
        heading: t('clients.oidc.confirmDisable.heading'),
        paragraphs: [t('clients.saml.confirmDisable.text', { entity: label(sp) })],
        confirm: t('clients.oidc.confirmDisable.ok'),
      });
      if (!ok) return;
    }
    try {
      await busy(b, null, () => stepUpApi('POST', '/api/admin/saml/service-providers/settings', { entityId: sp.entityId, enabled }));
      await load();
      setStatus(enabled ? t('clients.saml.enabledDone', { entity: label(sp) }) : t('clients.saml.disabledDone', { entity: label(sp) }));
    } catch (err) {
      fail(err);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      clearMessages();
      if (!form.reportValidity()) return;
      const displayName = byId<HTMLInputElement>('saml-display-name').value.trim();
      try {
        const r = await busy(submit, form, () =>
          stepUpApi<{ serviceProvider: SpView }>('POST', '/api/admin/saml/service-providers', {
            metadataXml: xml.value,
            ...(displayName ? { settings: { displayName } } : {}),
          }),
        );
        form.reset();
        await load();
        setStatus(t('clients.saml.registered', { entity: label(r.serviceProvider) }));
      } catch (err) {
        if (err instanceof ApiError && err.status === 400) showError(err, { form });
        else fail(err);
      }
    })();
  });

  return { load };
}
