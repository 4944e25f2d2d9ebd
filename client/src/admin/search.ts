// Finding an employee by name or e-mail address.
import { api, busy, byId, clearMessages, setStatus, showError, t, tp } from '../common.js';
import { renderIdentityRows } from '../console.js';
import type { IdentitySummary } from '../console.js';
import { ad } from './state.js';
import { handleAccessLost } from './access.js';
import { openPerson } from './person.js';
import { searchForm, searchInput, searchButton, resultsBody } from './elements.js';

searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void search();
});

export async function search(): Promise<void> {
  clearMessages(searchForm);
  const q = searchInput.value.trim();
  if (!q) return showError(new Error(t('console.search.missing')), { invalid: searchInput });
  await busy(searchButton, searchForm, async () => {
    setStatus(t('common.searching'));
    if (!(await runSearch(q, true))) return;
    setStatus(ad.results.length === 0 ? t('console.search.noMatch', { query: q }) : tp('console.search.found', ad.results.length));
  });
}

export async function runSearch(q: string, report: boolean): Promise<boolean> {
  try {
    ({ identities: ad.results } = await api<{ identities: IdentitySummary[] }>('GET', `/api/admin/identities?q=${encodeURIComponent(q)}`));
  } catch (err) {
    if (handleAccessLost(err)) return false;
    if (report) showError(err, { form: searchForm, context: t('console.search.failed') });
    return false;
  }
  if (!ad.allowed) return false;
  renderResults();
  byId('results').hidden = false;
  return true;
}

export function renderResults(): void {
  renderIdentityRows(resultsBody, ad.results, (i) => openPerson(i), ad.person?.id ?? null);
  byId('no-results').hidden = ad.results.length > 0;
}

/** Opens a person chosen in a list: found again through the search (by address), which says everything the person panel shows. */
export async function openFromList(identityId: string, email: string): Promise<void> {
  clearMessages();
  searchInput.value = email;
  if (!(await runSearch(email, true))) return;
  const found = ad.results.find((r) => r.id === identityId);
  if (found) openPerson(found);
  else setStatus(t('console.search.noMatch', { query: email }));
}
