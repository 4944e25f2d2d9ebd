/**
 * Export of a filtered range of the audit trail (issue 16; NSIS 6 (Low) 7), streamed: the store is
 * read in chunks of CHUNK entries, each chunk written to the sink before the next is read, so a
 * large range never sits in memory. The export is itself recorded (`audit.exported`: who, which
 * range, which filter, which format) before the first byte goes out.
 *
 * - CSV: the entries that match the filter, in words (the language asked for), RFC 4180, safe
 *   against formula injection, UTF-8 with a byte order mark.
 * - JSON: every entry of the range with its chain hashes (those outside the filter as stubs),
 *   the anchor, the checkpoints inside the range, and the HSM's signature over the manifest
 *   (server/audit/exportFormat.ts); `npm run audit:verify -- --export FILE` checks it.
 */
import type { JsonValue } from '../../audit/canonicalJson.js';
import { CSV_BOM, EXPORT_FORMAT, LineDigest, MAX_EXPORT_ENTRIES, csvRow, type ExportCheckpoint, type ExportFilter, type ExportManifest, type WithheldEntry } from '../../audit/exportFormat.js';
import { GENESIS_HASH } from '../../audit/hashChain.js';
import type { AuditEntry, AuditQuery } from '../../domain/audit.js';
import type { Actor } from '../../domain/types.js';
import { ValidationError } from '../../errors.js';
import { CATALOGUES, text, type MessageKey } from '../../../i18n/index.js';
import type { Language } from '../../../i18n/languages.js';
import type { CoreDeps } from '../deps.js';
import { recordEvent } from '../shared/audit.js';
import { Names, type NamedRef } from './readTrail.js';

const CHUNK = 500;

/** Where the export goes (an HTTP response): resolves when the chunk may be followed by the next. */
export type ExportSink = (chunk: string) => Promise<void>;

/** Signs the manifest with the HSM's active key (the key of the audit checkpoints). */
export type ManifestSigner = (manifest: Omit<ExportManifest, 'kid'>) => Promise<{ jws: string; kid: string }>;

export interface ExportRequest {
  actor: Actor;
  query: AuditQuery;
  language: Language;
  format: 'csv' | 'json';
}

function filterOf(q: AuditQuery): ExportFilter {
  return { person: q.personId ?? null, key: q.keyId ?? null, actor: q.actorId ?? null, events: q.types ? [...q.types] : null, from: q.from ?? null, to: q.to ?? null };
}

const narrows = (q: AuditQuery) => q.personId !== undefined || q.keyId !== undefined || q.actorId !== undefined || (q.types !== undefined && q.types.length > 0);

/** The range the export covers, checked against the cap, and recorded as exported. */
export async function startExport(deps: CoreDeps, r: ExportRequest): Promise<{ firstSeq: number; lastSeq: number; anchorHash: string }> {
  return deps.store.write(async (tx) => {
    const range = await tx.audit.seqRange(r.query.from, r.query.to);
    const head = await tx.audit.head();
    const firstSeq = range?.firstSeq ?? head.seq + 1;
    const lastSeq = range?.lastSeq ?? head.seq;
    const size = lastSeq - firstSeq + 1;
    if (size > MAX_EXPORT_ENTRIES) {
      throw new ValidationError(`The range holds ${size} entries; an export takes at most ${MAX_EXPORT_ENTRIES}. Narrow it with from and to.`, [{ path: 'from', message: 'the range is too large' }]);
    }
    const [first] = range ? await tx.audit.page(firstSeq, 1, lastSeq) : [];
    const anchorHash = first?.prevHash ?? head.hash ?? GENESIS_HASH;
    await recordEvent(deps, tx, 'audit.exported', r.actor, null, { format: r.format, firstSeq, lastSeq, filter: { ...filterOf(r.query) } });
    return { firstSeq, lastSeq, anchorHash };
  });
}

/** Each chunk of the range in order: every entry, and which of them match the filter. */
async function* chunks(deps: CoreDeps, query: AuditQuery, firstSeq: number, lastSeq: number, withNames: boolean): AsyncGenerator<{ all: AuditEntry[]; matching: Set<number>; names: Names }> {
  let from = firstSeq;
  while (from <= lastSeq) {
    const start = from;
    const chunk = await deps.store.read(async (tx) => {
      const all = await tx.audit.page(start, CHUNK, lastSeq);
      const end = all.at(-1)?.seq ?? start;
      const matching = narrows(query) || query.from !== undefined || query.to !== undefined
        ? new Set((await tx.audit.search({ ...query, afterSeq: start - 1, beforeSeq: end + 1 }, 'asc', CHUNK)).map((e) => e.seq))
        : new Set(all.map((e) => e.seq));
      // Names resolved inside the same read (the CSV needs them).
      const names = new Names(tx);
      if (withNames) for (const e of all) if (matching.has(e.seq)) await names.entry(e);
      return { all, matching, names };
    });
    if (chunk.all.length === 0) return;
    yield chunk;
    from = (chunk.all.at(-1)?.seq ?? lastSeq) + 1;
  }
}

function refWords(language: Language, ref: NamedRef | null): string {
  if (ref === null) return text(language, 'auditTrail.system');
  if (ref.kind === 'key') return text(language, 'auditTrail.keyOf', { key: ref.name ?? ref.id, person: ref.detail ?? '?' });
  if (ref.kind === 'person') return ref.detail ? `${ref.name ?? ''} <${ref.detail}>` : (ref.name ?? ref.id);
  return ref.id;
}

/** The event kind in words, or the code for a kind this gateway has no words for. */
export function eventWords(language: Language, type: string): string {
  const catalogue: Readonly<Record<string, string>> = CATALOGUES[language];
  return catalogue[`auditEvent.${type}`] ?? type;
}

/** Writes the CSV export of the range's matching entries. */
export async function writeCsv(deps: CoreDeps, r: ExportRequest, range: { firstSeq: number; lastSeq: number }, sink: ExportSink): Promise<number> {
  const l = r.language;
  const h = (k: MessageKey) => text(l, k as 'auditTrail.col.seq');
  await sink(
    CSV_BOM +
      csvRow([h('auditTrail.col.seq'), h('auditTrail.col.time'), h('auditTrail.col.event'), h('auditTrail.col.kind'), h('auditTrail.col.actor'), h('auditTrail.col.actorRole'), h('auditTrail.col.actorId'), h('auditTrail.col.subject'), h('auditTrail.col.subjectId'), h('auditTrail.col.details'), h('auditTrail.col.hash')]),
  );
  let rows = 0;
  for await (const { all, matching, names } of chunks(deps, r.query, range.firstSeq, range.lastSeq, true)) {
    let out = '';
    for (const e of all) {
      if (!matching.has(e.seq)) continue;
      const readable = await names.entry(e);
      out += csvRow([e.seq, e.at, eventWords(l, e.type), e.type, refWords(l, readable.actor), e.actorRole, e.actorId, e.subjectId === null ? '' : refWords(l, readable.subject), e.subjectId, JSON.stringify(e.data), e.hash]);
      rows++;
    }
    if (out) await sink(out);
  }
  return rows;
}

/** Writes the signed JSON export of the range. */
export async function writeSignedJson(
  deps: CoreDeps,
  r: ExportRequest & { exportedBy: string },
  range: { firstSeq: number; lastSeq: number; anchorHash: string },
  sign: ManifestSigner,
  sink: ExportSink,
): Promise<ExportManifest> {
  const exportedAt = deps.clock.now().toISOString();
  const head = {
    format: EXPORT_FORMAT,
    origin: deps.config.origin,
    exportedAt,
    exportedBy: r.exportedBy,
    filter: filterOf(r.query),
    range: { firstSeq: range.firstSeq, lastSeq: range.lastSeq },
    anchor: { seq: range.firstSeq - 1, hash: range.anchorHash },
  } as const;
  const json = JSON.stringify(head);
  await sink(`${json.slice(0, -1)},"entries":[\n`);
  const digest = new LineDigest();
  let count = 0;
  let included = 0;
  for await (const { all, matching } of chunks(deps, r.query, range.firstSeq, range.lastSeq, false)) {
    const items: string[] = [];
    for (const e of all) {
      const item: AuditEntry | WithheldEntry = matching.has(e.seq) ? e : { seq: e.seq, prevHash: e.prevHash, hash: e.hash, withheld: true };
      if (matching.has(e.seq)) included++;
      digest.add(item as unknown as JsonValue);
      items.push(JSON.stringify(item));
    }
    await sink(`${count > 0 ? ',\n' : ''}${items.join(',\n')}`);
    count += all.length;
  }
  const checkpoints: ExportCheckpoint[] = (await deps.store.read((tx) => tx.checkpoints.list()))
    .filter((c) => c.note !== null && c.seq >= range.firstSeq && c.seq <= range.lastSeq)
    .map((c) => ({ n: c.n, seq: c.seq, headHash: c.headHash, note: c.note ?? '' }));
  const cpDigest = new LineDigest();
  for (const c of checkpoints) cpDigest.add({ ...c });
  const unsigned = {
    ...head,
    filter: { ...head.filter },
    entries: { count, included, withheld: count - included, sha256: digest.hex() },
    checkpoints: { count: checkpoints.length, sha256: cpDigest.hex() },
  };
  const { jws, kid } = await sign(unsigned);
  const manifest: ExportManifest = { ...unsigned, kid };
  await sink(`\n],"checkpoints":${JSON.stringify(checkpoints)},"manifest":${JSON.stringify(manifest)},"signature":${JSON.stringify(jws)}}\n`);
  return manifest;
}
