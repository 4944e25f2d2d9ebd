/**
 * Verifies an audit trail as an auditor would, against a trust anchor from outside the database
 * (the HSM token's keys or an exported anchor file; trustAnchor.ts) and, when given, a witness
 * (witness.ts):
 *
 * 1. the signing keys: each key row must be held by the anchor or vouched for by a signed key
 *    record of a trusted key, and must match its newest signed record (keyRecords.ts);
 * 2. the signed prune records, and from the newest the start of what remains;
 * 3. the hash chain, entry by entry, from the start or the prune's anchor checkpoint;
 * 4. every checkpoint: signed by a trusted key active at its time, linked to the previous
 *    checkpoint, vouching for an entry whose hash it names (a checkpoint for entries that are
 *    gone is truncation);
 * 5. the witness: every witnessed checkpoint must be in the database, unchanged;
 * 6. every key record named by an audit event exists, and the reverse.
 *
 * Without an anchor it checks the database against itself only (the report says so). Reads
 * only, in ONE read transaction of the store port (a consistent snapshot, whatever the engine,
 * even while the gateway goes on writing); never changes anything.
 */
import type { CheckpointRecord } from '../domain/checkpoints.js';
import { resolveKeyTrust, type TrustedKey } from '../keys/keyRecords.js';
import type { ReadTx, Store } from '../ports/store.js';
import { ChainFold, GENESIS_HASH, type ChainVerdict } from './hashChain.js';
import type { TrustAnchor } from './trustAnchor.js';
import { checkpointSignatureProblem, compareWithWitness, pruneProblem, type PruneVerdict, type WitnessComparison } from './verifyCheckpoints.js';
import type { WitnessedCheckpoint } from './witness.js';

export interface CheckpointVerdict {
  id: number;
  /** Position in the checkpoint chain (null for a checkpoint from before signed notes). */
  n: number | null;
  seq: number;
  at: string;
  kid: string;
  ok: boolean;
  problem?: string;
}

export interface KeyVerdict {
  kid: string;
  state: string;
  /** anchor: held by the trust anchor; record: vouched for by a trusted signed record; database: no anchor given; untrusted: neither. */
  trust: 'anchor' | 'record' | 'database' | 'untrusted';
}

export interface AuditReport {
  ok: boolean;
  anchor: { source: 'hsm' | 'file' | 'none'; description: string; keys: number };
  keys: KeyVerdict[];
  chain: ChainVerdict;
  /** Where verification started: 1, or the entry after a pruned prefix. */
  firstSeq: number;
  anchoredBy: number | null;
  checkpoints: CheckpointVerdict[];
  prunes: PruneVerdict[];
  /** Entries after the newest valid checkpoint: their removal could not be detected. */
  unanchoredEntries: number;
  /** A checkpoint (in the database or the witness) vouches for more entries than the chain holds. */
  truncated: boolean;
  witness: (Omit<WitnessComparison, 'problems'> & { source: string }) | null;
  problems: string[];
  /** Facts an auditor should know that are not failures (no witness given, adopted keys, ...). */
  notes: string[];
}

export interface VerifyAuditOptions {
  /** The keys to trust, from outside the database. Without one, the database is checked against itself only. */
  anchor?: TrustAnchor;
  /** A witness to compare with (e.g. listWitnessDirectory(dir)). */
  witness?: { source: string; checkpoints: readonly WitnessedCheckpoint[] };
  /**
   * Progress for long chains: called with the entries verified so far and the entries expected
   * (from the head's sequence number): once with 0 before the first entry, every `progressEvery`
   * entries, and once at the end with the final count. Monotone; never changes the report.
   */
  onProgress?: (verified: number, expected: number) => void;
  /** Entries between progress calls (default 10,000). */
  progressEvery?: number;
}

interface Prefix {
  firstSeq: number;
  startHash: string;
  anchoredBy: number | null;
}

/** The newest valid prune decides where the remaining chain starts. */
function prunedPrefix(prunes: PruneVerdict[], checkpoints: readonly CheckpointRecord[]): Prefix {
  let best: Prefix = { firstSeq: 1, startHash: GENESIS_HASH, anchoredBy: null };
  for (const p of prunes) {
    if (!p.ok || p.throughSeq + 1 <= best.firstSeq) continue;
    const anchor = checkpoints.find((c) => c.seq === p.throughSeq);
    if (anchor) best = { firstSeq: p.throughSeq + 1, startHash: anchor.headHash, anchoredBy: anchor.id };
  }
  return best;
}

/** Verifies the audit trail of a store, in one read transaction. */
export function verifyStoreAudit(store: Store, opts: VerifyAuditOptions = {}): Promise<AuditReport> {
  return store.read((tx) => verifyAudit(tx, opts));
}

/** Entries read per page while streaming the chain. */
const PAGE = 5000;

/** Verifies the audit trail as `tx` sees it (a read transaction: a snapshot). */
export async function verifyAudit(tx: ReadTx, opts: VerifyAuditOptions = {}): Promise<AuditReport> {
  const problems: string[] = [];
  const notes: string[] = [];

  // 1. Keys, trusted from the anchor outward.
  const rows = await tx.signingKeys.list();
  const records = await tx.signingKeys.records();
  const anchorMap = opts.anchor ? new Map(opts.anchor.keys.map((k) => [k.kid, k.jwk])) : null;
  const trust = resolveKeyTrust({ anchor: anchorMap, records, rows });
  problems.push(...trust.problems);
  notes.push(...trust.notes);
  if (!opts.anchor) notes.push('no trust anchor given: the keys were taken from the database itself, so this shows internal consistency only');
  const keys: ReadonlyMap<string, TrustedKey> = trust.keys;
  const keyVerdicts: KeyVerdict[] = rows.map((r) => ({ kid: r.kid, state: r.state, trust: keys.get(r.kid)?.via ?? 'untrusted' }));

  // 2. Prunes.
  const checkpoints = await tx.checkpoints.list();
  const prunes: PruneVerdict[] = (await tx.checkpoints.prunes()).map((p) => {
    const problem = pruneProblem(p, checkpoints, keys);
    if (problem) problems.push(`prune record ${p.id} (entries through ${p.throughSeq}): ${problem}`);
    return { id: p.id, throughSeq: p.throughSeq, ok: problem === undefined, ...(problem ? { problem } : {}) };
  });
  const { firstSeq, startHash, anchoredBy } = prunedPrefix(prunes, checkpoints);

  // 3. The chain, streamed a page at a time, so a chain of millions never sits in memory.
  const wanted = new Set(checkpoints.map((c) => c.seq));
  const hashAt = new Map<number, string>();
  const recordNamedAt = new Map<number, string>();
  let lastSeq = firstSeq - 1;
  const { onProgress } = opts;
  const every = opts.progressEvery ?? 10_000;
  if (!Number.isSafeInteger(every) || every < 1) throw new TypeError('verifyAudit: progressEvery must be a positive integer');
  const expected = onProgress ? Math.max(0, (await tx.audit.head()).seq - firstSeq + 1) : 0;
  onProgress?.(0, expected);
  const fold = new ChainFold(startHash, firstSeq);
  let chain: ChainVerdict | undefined;
  let read = 0;
  for (let from = firstSeq; chain === undefined; ) {
    const page = await tx.audit.page(from, PAGE);
    if (page.length === 0) break;
    for (const e of page) {
      // The fold takes the next entry only after it verified every earlier one.
      if (onProgress && read > 0 && read % every === 0) onProgress(read, expected);
      read++;
      if (wanted.has(e.seq)) hashAt.set(e.seq, e.hash);
      if (e.type.startsWith('signing-key.') && typeof e.data['record'] === 'string') recordNamedAt.set(e.seq, e.data['record']);
      lastSeq = e.seq;
      chain = fold.next(e);
      if (chain) break;
    }
    from = (page[page.length - 1]?.seq ?? from) + 1;
  }
  chain ??= fold.done();
  onProgress?.(chain.entries, expected);
  if (!chain.ok) problems.push(`chain broken at entry ${chain.firstBrokenSeq}: ${chain.problem}`);

  // 4. Checkpoints: signature, place in the checkpoint chain, and the entry they vouch for.
  const verdicts: CheckpointVerdict[] = [];
  let newestValid = firstSeq - 1;
  let truncated = false;
  checkpoints.forEach((cp, i) => {
    let problem = checkpointSignatureProblem(cp, i + 1, checkpoints[i - 1], keys);
    if (!problem && cp.seq >= firstSeq) {
      if (cp.seq > lastSeq) {
        truncated = true;
        problem = `vouches for entry ${cp.seq} but the chain ends at ${lastSeq}: entries were removed`;
      } else if (hashAt.get(cp.seq) !== cp.headHash) problem = `entry ${cp.seq} does not have the hash the checkpoint signed`;
    }
    if (problem) problems.push(`checkpoint ${cp.n ?? `#${cp.id}`} (entry ${cp.seq}): ${problem}`);
    else newestValid = Math.max(newestValid, cp.seq);
    verdicts.push({ id: cp.id, n: cp.n, seq: cp.seq, at: cp.at, kid: cp.kid, ok: problem === undefined, ...(problem ? { problem } : {}) });
  });

  // 5. The witness.
  let witness: AuditReport['witness'] = null;
  if (opts.witness) {
    const cmp = compareWithWitness(opts.witness.checkpoints, checkpoints, keys, opts.witness.source);
    problems.push(...cmp.problems);
    if (cmp.witnessedSeq > lastSeq) {
      truncated = true;
      problems.push(`the witness holds a checkpoint for entry ${cmp.witnessedSeq} but the chain ends at ${lastSeq}: entries were removed`);
    }
    // Valid checkpoints newer than the witness: made just before a crash, written at the next checkpoint.
    const notYet = verdicts.filter((v) => v.ok && v.n !== null && v.n > cmp.newestWitnessed).length;
    if (notYet > 0) notes.push(`${notYet} newest checkpoint(s) not in the witness yet (the gateway writes them at its next checkpoint)`);
    witness = { source: opts.witness.source, checkpoints: cmp.checkpoints, matched: cmp.matched, newestWitnessed: cmp.newestWitnessed, witnessedSeq: cmp.witnessedSeq };
  } else {
    notes.push('no witness compared: the removal of the newest checkpoints together with the entries after them cannot be ruled out');
  }

  // 6. Key records and the audit events that name them.
  const recordsByHash = new Map(records.map((r) => [r.hash, r]));
  for (const [seq, hash] of recordNamedAt) {
    const r = recordsByHash.get(hash);
    if (!r) problems.push(`audit entry ${seq} names signing-key record ${hash.slice(0, 16)}…, which is missing`);
    else if (r.auditSeq !== seq) problems.push(`signing-key record ${r.id} is filed under audit entry ${r.auditSeq}, but entry ${seq} names it`);
  }
  for (const r of recordsByHash.values()) {
    if (r.auditSeq >= firstSeq && r.auditSeq <= lastSeq && recordNamedAt.get(r.auditSeq) !== r.hash) {
      problems.push(`signing-key record ${r.id} (${r.event} of key ${r.kid}) is named by no audit entry: it was inserted into the database`);
    }
  }

  return {
    ok: problems.length === 0,
    anchor: opts.anchor ? { source: opts.anchor.source, description: opts.anchor.description, keys: opts.anchor.keys.length } : { source: 'none', description: 'none (the database itself)', keys: 0 },
    keys: keyVerdicts,
    chain,
    firstSeq,
    anchoredBy,
    checkpoints: verdicts,
    prunes,
    unanchoredEntries: Math.max(0, lastSeq - newestValid),
    truncated,
    witness,
    problems,
    notes,
  };
}

export interface AuditVerificationFigures {
  ok: boolean;
  /** Chain entries verified. */
  entries: number;
  seconds: number;
  entriesPerSecond: number;
  report: AuditReport;
}

/**
 * Verifies an audit trail and times it: the benchmark's "audit chain verification speed" figure
 * (issue 7), measured exactly as `npm run audit:verify` verifies (the same function, one thread).
 */
export async function measureAuditVerification(tx: ReadTx, opts: VerifyAuditOptions = {}): Promise<AuditVerificationFigures> {
  const started = process.hrtime.bigint();
  const report = await verifyAudit(tx, opts);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const entries = report.chain.entries;
  return { ok: report.ok, entries, seconds, entriesPerSecond: seconds > 0 ? entries / seconds : 0, report };
}
