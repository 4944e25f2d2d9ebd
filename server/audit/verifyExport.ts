/**
 * Verifies a signed export of the audit trail (exportFormat.ts) outside the gateway: the
 * signature by a key the trust anchor holds, the manifest against the file, every chain link
 * inside the range from the anchor hash, every included entry's hash, and the checkpoints inside
 * the range (their signatures and the entry hash each vouches for).
 *
 * What a passing export proves, and what it does not, is part of the verdict (`proves`, `doesNotProve`).
 */
import { z } from 'zod';
import type { JsonValue } from './canonicalJson.js';
import { verifyCheckpointNote } from './checkpointNote.js';
import { verifyEs256Jws } from './compactJws.js';
import { EXPORT_FORMAT, EXPORT_JWS_TYP, LineDigest } from './exportFormat.js';
import { entryHash } from './hashChain.js';
import type { AnchorKey } from './trustAnchor.js';

const json: z.ZodType<JsonValue> = z.lazy(() => z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(json), z.record(z.string(), json)]));
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const full = z.object({ seq: z.number().int(), at: z.string(), type: z.string(), actorId: z.string().nullable(), actorRole: z.string(), subjectId: z.string().nullable(), data: z.record(z.string(), json), prevHash: hex64, hash: hex64 }).strict();
const stub = z.object({ seq: z.number().int(), prevHash: hex64, hash: hex64, withheld: z.literal(true) }).strict();
const filter = z.object({ person: z.string().nullable(), key: z.string().nullable(), actor: z.string().nullable(), events: z.array(z.string()).nullable(), from: z.string().nullable(), to: z.string().nullable() }).strict();
const manifest = z
  .object({
    format: z.literal(EXPORT_FORMAT),
    origin: z.string(),
    exportedAt: z.string(),
    exportedBy: z.string(),
    filter,
    range: z.object({ firstSeq: z.number().int(), lastSeq: z.number().int() }).strict(),
    anchor: z.object({ seq: z.number().int(), hash: hex64 }).strict(),
    entries: z.object({ count: z.number().int(), included: z.number().int(), withheld: z.number().int(), sha256: hex64 }).strict(),
    checkpoints: z.object({ count: z.number().int(), sha256: hex64 }).strict(),
    kid: z.string(),
  })
  .strict();
const file = z
  .object({
    format: z.literal(EXPORT_FORMAT),
    origin: z.string(),
    exportedAt: z.string(),
    exportedBy: z.string(),
    filter,
    range: manifest.shape.range,
    anchor: manifest.shape.anchor,
    entries: z.array(z.union([full, stub])),
    checkpoints: z.array(z.object({ n: z.number().int().nullable(), seq: z.number().int(), headHash: hex64, note: z.string() }).strict()),
    manifest,
    signature: z.string(),
  })
  .strict();

export type ExportVerdict =
  | { ok: true; manifest: z.infer<typeof manifest>; proves: string[]; doesNotProve: string[] }
  | { ok: false; problem: string };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Checks an export's text against the trusted keys (from the HSM or an anchor file). */
export function verifyExport(text: string, trusted: readonly AnchorKey[]): ExportVerdict {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'the file is not JSON (cut short, or not an export)' };
  }
  const parsed = file.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return { ok: false, problem: `the file is not a ${EXPORT_FORMAT} export: ${i ? `${i.path.join('.')} ${i.message}` : 'invalid'}` };
  }
  const f = parsed.data;
  const m = f.manifest;
  // 1. The signature, by a key the anchor holds.
  const key = trusted.find((k) => k.kid === m.kid);
  if (!key) return { ok: false, problem: `the export is signed with key ${m.kid}, which the trust anchor does not hold` };
  const sig = verifyEs256Jws(f.signature, m.kid, key.jwk, EXPORT_JWS_TYP);
  if ('problem' in sig) return { ok: false, problem: `wrong signature: ${sig.problem}` };
  const { kid: _kid, ...unsignedManifest } = m;
  void _kid;
  if (!same(sig.payload, unsignedManifest)) return { ok: false, problem: 'the manifest in the file is not the one the signature covers' };
  for (const field of ['format', 'origin', 'exportedAt', 'exportedBy', 'filter', 'range', 'anchor'] as const) {
    if (!same(f[field], m[field])) return { ok: false, problem: `the file's ${field} differs from the signed manifest` };
  }
  // 2. The entries: the signed digest, then the chain from the anchor, link by link.
  const digest = new LineDigest();
  for (const e of f.entries) digest.add(e as unknown as JsonValue);
  if (digest.hex() !== m.entries.sha256 || f.entries.length !== m.entries.count) {
    return { ok: false, problem: 'the entries are not the ones signed (an entry was changed, removed, added or re-ordered)' };
  }
  if (m.anchor.seq !== m.range.firstSeq - 1 || m.range.lastSeq - m.range.firstSeq + 1 !== m.entries.count) return { ok: false, problem: 'the range, anchor and count do not agree' };
  let prev = m.anchor.hash;
  let seq = m.anchor.seq;
  const hashAt = new Map<number, string>();
  let included = 0;
  for (const e of f.entries) {
    if (e.seq !== seq + 1) return { ok: false, problem: `entry ${seq + 1} is missing (found ${e.seq}): the range is not contiguous` };
    if (e.prevHash !== prev) return { ok: false, problem: `entry ${e.seq} does not link to the entry before it` };
    if (!('withheld' in e)) {
      included++;
      if (entryHash(prev, e) !== e.hash) return { ok: false, problem: `entry ${e.seq} was altered (its hash does not match its content)` };
    }
    prev = e.hash;
    seq = e.seq;
    hashAt.set(e.seq, e.hash);
  }
  if (included !== m.entries.included) return { ok: false, problem: 'the count of included entries differs from the signed manifest' };
  // 3. The checkpoints inside the range.
  const cpDigest = new LineDigest();
  for (const c of f.checkpoints) cpDigest.add({ ...c });
  if (cpDigest.hex() !== m.checkpoints.sha256 || f.checkpoints.length !== m.checkpoints.count) return { ok: false, problem: 'the checkpoints are not the ones signed' };
  const jwkOf = (kid: string) => trusted.find((k) => k.kid === kid)?.jwk;
  for (const c of f.checkpoints) {
    const v = verifyCheckpointNote(c.note, jwkOf);
    if ('problem' in v) return { ok: false, problem: `checkpoint ${c.n ?? '?'} (entry ${c.seq}): ${v.problem}` };
    if (v.body.seq !== c.seq || v.body.headHash !== c.headHash || hashAt.get(c.seq) !== c.headHash) return { ok: false, problem: `checkpoint ${c.n ?? '?'} does not vouch for entry ${c.seq} as exported` };
  }
  const proves = [
    `the file was signed by the gateway's key ${m.kid}, which the trust anchor holds, and is unchanged since`,
    `entries ${m.range.firstSeq}-${m.range.lastSeq} are contiguous (none removed, added or re-ordered) and link from the anchor hash ${m.anchor.hash.slice(0, 16)}… of entry ${m.anchor.seq}`,
    `the ${included} included entr${included === 1 ? 'y is' : 'ies are'} unaltered (each re-hashes to its chain hash)`,
  ];
  if (f.checkpoints.length > 0) proves.push(`${f.checkpoints.length} signed checkpoint${f.checkpoints.length === 1 ? '' : 's'} inside the range vouch${f.checkpoints.length === 1 ? 'es' : ''} for the chain as exported`);
  const doesNotProve = [
    'that the database still holds this range, or what came after it (verify the database itself: npm run audit:verify)',
    'that the anchor hash is the hash of the real entry before the range, unless you compare it with another export or the database',
  ];
  if (m.entries.withheld > 0) doesNotProve.push(`what the ${m.entries.withheld} withheld entries (outside the filter) say, nor that the gateway chose them by the filter correctly; their place in the chain is proven`);
  if (f.checkpoints.length === 0) doesNotProve.push('anything through a checkpoint: no checkpoint falls inside the range');
  return { ok: true, manifest: m, proves, doesNotProve };
}
