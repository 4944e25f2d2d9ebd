/**
 * Issue 16, the audit trail readable: every kind of event the gateway records has words in
 * English and Danish (NSIS 6 (Low) 7: a log a person can read). The kinds the code records are
 * read from the source, so a new kind without words fails here, not on a page.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CATALOGUES, LANGUAGES } from '../../i18n/index.js';
import { AUDIT_EVENT_KINDS } from '../../server/audit/eventKinds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) out.push(...sourceFiles(p));
    else if (d.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Audit kinds written as literals: `'family.rest'` where family is a family of the known kinds, and any kind given to recordEvent. */
function kindsInSource(): Map<string, string> {
  const families = new Set(AUDIT_EVENT_KINDS.map((k) => k.split('.')[0]));
  const found = new Map<string, string>();
  for (const dir of ['server', 'scripts', 'hsm']) {
    for (const file of sourceFiles(path.join(root, dir))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/'([a-z][a-z0-9-]*)\.([a-z][a-z0-9.-]*[a-z0-9])'/g)) {
        const family = m[1] ?? '';
        // Not events: log field names and file names of the same families.
        if (!families.has(family) || /\.(ts|md|json|db|pin|key|txt|html|sh|so|conf)$/.test(m[0].slice(1, -1))) continue;
        // Not events either: message keys of the catalogues (a problem's words, 'admin.import.error.name').
        if (m[0].slice(1, -1) in CATALOGUES.en) continue;
        found.set(`${family}.${m[2] ?? ''}`, path.relative(root, file));
      }
      // Whatever the family: the kind passed to recordEvent(deps, tx, 'kind', ...) is an event.
      for (const m of text.matchAll(/recordEvent\(\s*[\w.]+,\s*[\w.]+,\s*'([a-z][a-z0-9-]*\.[a-z][a-z0-9.-]*[a-z0-9])'/g)) {
        found.set(m[1] ?? '', path.relative(root, file));
      }
    }
  }
  return found;
}

describe('audit event kinds in words', () => {
  it('NSIS 6 (Low) 7: every audit event kind has words in English and in Danish', () => {
    for (const language of LANGUAGES) {
      const catalogue: Readonly<Record<string, string>> = CATALOGUES[language];
      const missing = AUDIT_EVENT_KINDS.filter((k) => !(`auditEvent.${k}` in catalogue) || (catalogue[`auditEvent.${k}`] ?? '').trim() === '');
      assert.deepEqual(missing, [], `${language}: event kinds without words`);
    }
  });

  it('NSIS 6 (Low) 7: every event kind the code records is in the list of kinds (so it has words)', () => {
    const known = new Set(AUDIT_EVENT_KINDS);
    const unknown = [...kindsInSource()].filter(([k]) => !known.has(k)).map(([k, file]) => `${k} (${file})`);
    assert.deepEqual(unknown, [], 'kinds recorded in the code but missing from server/audit/eventKinds.ts');
    assert.ok(kindsInSource().size > 60, 'the scan finds the kinds');
  });

  it('no words for a kind that is not in the list (a stale entry)', () => {
    const known = new Set(AUDIT_EVENT_KINDS.map((k) => `auditEvent.${k}`));
    assert.deepEqual(Object.keys(CATALOGUES.en).filter((k) => k.startsWith('auditEvent.') && !known.has(k)), []);
  });
});
