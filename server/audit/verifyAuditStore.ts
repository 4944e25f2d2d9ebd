/**
 * Audit verification through the store port: the same checks as verifyAuditFile.ts (keys against
 * the trust anchor, prunes, the hash chain, every checkpoint, the witness, the key records named
 * by audit events) on any engine, so that a PostgreSQL database, e.g. a restored copy, is verified
 * as a SQLite file is (issue 14; NSIS 6 (Low) 7, 4.1.7 (Low) 3).
 *
 * Everything is read in ONE read transaction: one snapshot, however long the chain and whatever
 * the gateway appends meanwhile. The chain is read in pages and folded page by page, so a chain
 * of millions never sits in memory. Reads only; never changes the database.
 */
import { resolveKeyTrust, type TrustedKey } from '../keys/keyRecords.js';
import type { CheckpointRecord } from '../domain/checkpoints.js';
import type { ReadTx, Store } from '../ports/store.js';
import { GENESIS_HASH, verifyChain, type ChainVerdict } from './hashChain.js';
import { checkpointSignatureProblem, compareWithWitness, pruneProblem, type PruneVerdict } from './verifyCheckpoints.js';
import type { AuditReport, CheckpointVerdict, KeyVerdict, VerifyAuditOptions } from './verifyAuditFile.js';

/** Entries per page of the chain. */
const PAGE = 2_000;

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

interface ChainWalk {
  chain: ChainVerdict;
  lastSeq: number;
  hashAt: Map<number, string>;
  recordNamedAt: Map<number, string>;
}

/** The chain from `prefix`, page by page; each page continues from the previous one's last hash. */
async function walkChain(tx: ReadTx, prefix: Prefix, wanted: ReadonlySet<number>, opts: VerifyAuditOptions): Promise<ChainWalk> {
  const every = opts.progressEvery ?? 10_000;
  if (!Number.isSafeInteger(every) || every < 1) throw new TypeError('verifyAuditStore: progressEvery must be a positive integer');
  const expected = opts.onProgress ? Math.max(0, (await tx.audit.head()).seq - prefix.firstSeq + 1) : 0;
  opts.onProgress?.(0, expected);
  const hashAt = new Map<number, string>();
  const recordNamedAt = new Map<number, string>();
  let prevHash = prefix.startHash;
  let nextSeq = prefix.firstSeq;
  let verified = 0;
  let reported = 0;
  let lastSeq = prefix.firstSeq - 1;
  let chain: ChainVerdict = { ok: true, entries: 0, headHash: prevHash };
  for (;;) {
    const page = await tx.audit.page(nextSeq, PAGE);
    if (page.length === 0) break;
    const v = verifyChain(page, prevHash, nextSeq);
    // As verifyAuditFile.ts streams: what was read up to and including the first broken entry.
    const read = v.ok ? page : page.slice(0, v.entries + 1);
    for (const e of read) {
      if (wanted.has(e.seq)) hashAt.set(e.seq, e.hash);
      if (e.type.startsWith('signing-key.') && typeof e.data['record'] === 'string') recordNamedAt.set(e.seq, e.data['record']);
    }
    lastSeq = read[read.length - 1]?.seq ?? lastSeq;
    if (!v.ok) {
      chain = { ...v, entries: verified + v.entries };
      break;
    }
    verified += v.entries;
    prevHash = v.headHash;
    nextSeq = lastSeq + 1;
    chain = { ok: true, entries: verified, headHash: prevHash };
    if (opts.onProgress && verified - reported >= every) {
      reported = verified - (verified % every);
      opts.onProgress(reported, expected);
    }
    if (page.length < PAGE) break;
  }
  opts.onProgress?.(chain.entries, expected);
  return { chain, lastSeq, hashAt, recordNamedAt };
}

async function verifyIn(tx: ReadTx, opts: VerifyAuditOptions): Promise<AuditReport> {
  const problems: string[] = [];
  const notes: string[] = [];

  // 1. Keys, trusted from the anchor outward.
  const rows = await tx.signingKeys.list();
  const keyRecords = await tx.signingKeys.records();
  const anchorMap = opts.anchor ? new Map(opts.anchor.keys.map((k) => [k.kid, k.jwk])) : null;
  const trust = resolveKeyTrust({ anchor: anchorMap, records: keyRecords, rows });
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
  const prefix = prunedPrefix(prunes, checkpoints);

  // 3. The chain.
  const { chain, lastSeq, hashAt, recordNamedAt } = await walkChain(tx, prefix, new Set(checkpoints.map((c) => c.seq)), opts);
  if (!chain.ok) problems.push(`chain broken at entry ${chain.firstBrokenSeq}: ${chain.problem}`);

  // 4. Checkpoints: signature, place in the checkpoint chain, and the entry they vouch for.
  const verdicts: CheckpointVerdict[] = [];
  let newestValid = prefix.firstSeq - 1;
  let truncated = false;
  checkpoints.forEach((cp, i) => {
    let problem = checkpointSignatureProblem(cp, i + 1, checkpoints[i - 1], keys);
    if (!problem && cp.seq >= prefix.firstSeq) {
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
    const notYet = verdicts.filter((v) => v.ok && v.n !== null && v.n > cmp.newestWitnessed).length;
    if (notYet > 0) notes.push(`${notYet} newest checkpoint(s) not in the witness yet (the gateway writes them at its next checkpoint)`);
    witness = { source: opts.witness.source, checkpoints: cmp.checkpoints, matched: cmp.matched, newestWitnessed: cmp.newestWitnessed, witnessedSeq: cmp.witnessedSeq };
  } else {
    notes.push('no witness compared: the removal of the newest checkpoints together with the entries after them cannot be ruled out');
  }

  // 6. Key records and the audit events that name them.
  const recordsByHash = new Map(keyRecords.map((r) => [r.hash, r]));
  for (const [seq, hash] of recordNamedAt) {
    const r = recordsByHash.get(hash);
    if (!r) problems.push(`audit entry ${seq} names signing-key record ${hash.slice(0, 16)}…, which is missing`);
    else if (r.auditSeq !== seq) problems.push(`signing-key record ${r.id} is filed under audit entry ${r.auditSeq}, but entry ${seq} names it`);
  }
  for (const r of recordsByHash.values()) {
    if (r.auditSeq >= prefix.firstSeq && r.auditSeq <= lastSeq && recordNamedAt.get(r.auditSeq) !== r.hash) {
      problems.push(`signing-key record ${r.id} (${r.event} of key ${r.kid}) is named by no audit entry: it was inserted into the database`);
    }
  }

  return {
    ok: problems.length === 0,
    anchor: opts.anchor ? { source: opts.anchor.source, description: opts.anchor.description, keys: opts.anchor.keys.length } : { source: 'none', description: 'none (the database itself)', keys: 0 },
    keys: keyVerdicts,
    chain,
    firstSeq: prefix.firstSeq,
    anchoredBy: prefix.anchoredBy,
    checkpoints: verdicts,
    prunes,
    unanchoredEntries: Math.max(0, lastSeq - newestValid),
    truncated,
    witness,
    problems,
    notes,
  };
}

/** Verifies the audit trail of the database behind `store` (any engine), in one read transaction. */
export function verifyAuditStore(store: Store, opts: VerifyAuditOptions = {}): Promise<AuditReport> {
  return store.read((tx) => verifyIn(tx, opts));
}
