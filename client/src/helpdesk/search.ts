// Finding an employee by name, email or UUID.
import { api, busy, byId, clearMessages, setStatus, showError, t, tp } from '../common.js';
import { renderIdentityRows } from '../console.js';
import type { IdentitySummary } from '../console.js';
import { hd } from './state.js';
import { searchForm, searchInput, searchButton, resultsBody } from './elements.js';
import { handleAccessLost } from './access.js';
import { openPerson } from './person.js';

searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void search();
});

async function search(): Promise<void> {
  clearMessages(searchForm);
  const q = searchInput.value.trim();
  if (!q) {
    showError(new Error(t('console.search.missing')), { invalid: searchInput });
    return;
  }
  await busy(searchButton, searchForm, async () => {
    setStatus(t('common.searching'));
    try {
      ({ identities: hd.results } = await api<{ identities: IdentitySummary[] }>('GET', `/api/helpdesk/identities?q=${encodeURIComponent(q)}`));
    } catch (err) {
      if (handleAccessLost(err)) return;
      showError(err, { form: searchForm, context: t('console.search.failed') });
      return;
    }
    if (!hd.allowed) return;
    renderResults();
    byId('results').hidden = false;
    setStatus(hd.results.length === 0 ? t('console.search.noMatch', { query: q }) : tp('console.search.found', hd.results.length));
  });
}

export function renderResults(): void {
  renderIdentityRows(resultsBody, hd.results, (i) => void openPerson(i.id), hd.person?.identity.id ?? null);
  byId('no-results').hidden = hd.results.length > 0;
}
