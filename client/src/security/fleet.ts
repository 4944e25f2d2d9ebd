/** The fleet by model, certification, level and state, and the FIDO metadata in force. */
import { api, busy, byId, clearMessages, formatDate, setStatus, showError, stateWords, t } from '../common.js';
import { ialWords } from '../console.js';
import { handleAccessLost } from './access.js';
import { el } from './dom.js';
import { state } from './state.js';

export interface FleetRow {
  aaguid: string;
  model: string | null;
  certification: string | null;
  aal: string | null;
  state: string;
  count: number;
}

export const fleetButton = byId<HTMLButtonElement>('fleet-refresh');
export const metadataButton = byId<HTMLButtonElement>('metadata-reload');

export interface FleetReport {
  metadataConfigured: boolean;
  metadata: { number: number; nextUpdate: string; stale: boolean } | null;
  fleet: FleetRow[];
}

/** Draws the metadata state; "Reload" is offered only when a BLOB source is configured. */
export function showMetadataState(r: FleetReport): void {
  byId('fleet-metadata').textContent = r.metadata
    ? t(r.metadata.stale ? 'security.fleet.metadataStale' : 'security.fleet.metadata', { number: r.metadata.number, date: formatDate(r.metadata.nextUpdate) })
    : t('security.fleet.noMetadata');
  const hint = byId('metadata-reload-hint');
  metadataButton.disabled = !r.metadataConfigured;
  hint.hidden = r.metadataConfigured;
  if (r.metadataConfigured) metadataButton.removeAttribute('aria-describedby');
  else metadataButton.setAttribute('aria-describedby', hint.id);
}

/** GET the fleet report; draws the metadata state, and the table when `withTable`. */
export async function loadFleet(withTable: boolean): Promise<void> {
  const r = await api<FleetReport>('GET', '/api/security/fleet');
  if (!state.allowed) return;
  showMetadataState(r);
  if (withTable) renderFleet(r);
}

export async function showFleet(): Promise<void> {
  await loadFleet(true);
}

export function renderFleet(r: FleetReport): void {
  byId('fleet-body').replaceChildren(
    ...r.fleet.map((f) => {
      const row = el('tr', 'fleet-row');
      row.dataset['aaguid'] = f.aaguid;
      row.dataset['state'] = f.state;
      row.append(el('td', undefined, f.model ?? t('security.fleet.unverifiedModel', { aaguid: f.aaguid })), el('td', undefined, f.certification ?? t('common.none')), el('td', undefined, f.aal ? ialWords(f.aal) : t('common.none')), el('td', undefined, stateWords(f.state)), el('td', undefined, String(f.count)));
      return row;
    }),
  );
  byId('fleet-table').hidden = false;
}

fleetButton.addEventListener('click', () => {
  void busy(fleetButton, byId('fleet-section'), async () => {
    clearMessages();
    try {
      await showFleet();
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: t('security.fleet.failed') });
    }
  });
});

metadataButton.addEventListener('click', () => {
  void busy(metadataButton, byId('fleet-section'), async () => {
    clearMessages();
    try {
      const r = await api<{ results: { replaced: boolean; code?: string; message?: string }[]; compromisedModels: string[]; reRated: number }>('POST', '/api/security/metadata/reload', {});
      const refused = r.results.filter((x) => !x.replaced);
      const counts = { loaded: r.results.length - refused.length, compromised: r.compromisedModels.length, reRated: r.reRated };
      setStatus(
        refused.length
          ? t('security.fleet.reloadedRefused', { ...counts, refused: refused.length, codes: refused.map((x) => x.code ?? '').join(t('console.listSeparator')) })
          : t('security.fleet.reloaded', counts),
      );
      await showFleet();
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { context: t('security.fleet.reloadFailed') });
    }
  });
});
