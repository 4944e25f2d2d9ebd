/**
 * Verifies an audit trail as an auditor would, from the database file alone: the hash chain
 * (from the start, or from the signed checkpoint a retention prune left as anchor), every signed
 * checkpoint against the public key that was valid when it was made, and truncation after the
 * last checkpoint. Reads only; never changes the database.
 */
import Database from 'better-sqlite3';
import { createPublicKey, verify as verifySignature, type JsonWebKey } from 'node:crypto';
import { CheckpointRepository, KeyRepository, type CheckpointRecord, type SigningKeyRecord } from '../store/index.js';
import { auditEntry, num } from '../store/rows.js';
import { GENESIS_HASH, verifyChain, type AuditEntry, type ChainVerdict } from './hashChain.js';

export interface CheckpointVerdict {
  id: number;
  seq: number;
  at: string;
  kid: string;
  ok: boolean;
  problem?: string;
}

export interface AuditReport {
  ok: boolean;
  chain: ChainVerdict;
  /** Where verification started: 1, or the entry after a pruned prefix. */
  firstSeq: number;
  anchoredBy: number | null;
  checkpoints: CheckpointVerdict[];
  /** Entries after the newest valid checkpoint: their removal could not be detected. */
  unanchoredEntries: number;
  /** A checkpoint vouches for more entries than the chain holds: entries were cut off. */
  truncated: boolean;
  problems: string[];
}

function parseJws(jws: string): { header: Record<string, unknown>; payload: Record<string, unknown>; input: string; signature: Buffer } | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3) return undefined;
  const [h = '', p = '', s = ''] = parts;
  try {
    const header: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    const payload: unknown = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    if (typeof header !== 'object' || header === null || typeof payload !== 'object' || payload === null) return undefined;
    return { header: { ...header }, payload: { ...payload }, input: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
  } catch {
    return undefined;
  }
}

/** Checks one checkpoint's ES256 signature with the key that was valid at its time. */
export function checkCheckpoint(cp: CheckpointRecord, keys: Map<string, SigningKeyRecord>): string | undefined {
  const key = keys.get(cp.kid);
  if (!key) return `signed with unknown key ${cp.kid}`;
  if (!key.activatedAt || key.activatedAt > cp.at) return `key ${cp.kid} was not active yet at ${cp.at}`;
  if (key.retiredAt && key.retiredAt < cp.at) return `key ${cp.kid} was already retired at ${cp.at}`;
  if (key.compromisedAt && key.compromisedAt <= cp.at) return `key ${cp.kid} was compromised at ${key.compromisedAt}`;
  const jws = parseJws(cp.jws);
  if (!jws) return 'not a JWS';
  if (jws.header['alg'] !== 'ES256' || jws.header['kid'] !== cp.kid) return 'header does not name ES256 and the recorded kid';
  const publicKey = createPublicKey({ key: key.publicJwk as JsonWebKey, format: 'jwk' });
  if (!verifySignature('sha256', Buffer.from(jws.input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, jws.signature)) return 'signature does not verify';
  if (jws.payload['seq'] !== cp.seq || jws.payload['head'] !== cp.headHash || jws.payload['at'] !== cp.at) return 'signed content differs from the recorded checkpoint';
  return undefined;
}

export interface VerifyAuditOptions {
  /**
   * Progress for long chains: called with the entries verified so far and the entries expected
   * (from the head's sequence number): once with 0 before the first entry, every `progressEvery`
   * entries, and once at the end with the final count. Monotone; never changes the report.
   */
  onProgress?: (verified: number, expected: number) => void;
  /** Entries between progress calls (default 10,000). */
  progressEvery?: number;
}

export function verifyAuditDatabase(db: Database.Database, opts: VerifyAuditOptions = {}): AuditReport {
  const keyRepo = new KeyRepository(db);
  const cpRepo = new CheckpointRepository(db);
  const keys = new Map(keyRepo.list().map((k) => [k.kid, k]));
  const checkpoints = cpRepo.list();
  const problems: string[] = [];

  let firstSeq = 1;
  let startHash = GENESIS_HASH;
  let anchoredBy: number | null = null;
  const prune = cpRepo.latestPrune();
  if (prune) {
    const anchor = checkpoints.find((c) => c.id === prune.anchorCheckpointId);
    const problem = anchor ? checkCheckpoint(anchor, keys) : 'the anchor checkpoint is missing';
    if (!anchor || problem) problems.push(`prune anchor: ${problem ?? 'missing'}`);
    if (anchor) {
      firstSeq = anchor.seq + 1;
      startHash = anchor.headHash;
      anchoredBy = anchor.id;
    }
  }

  const wanted = new Map(checkpoints.map((c) => [c.seq, c]));
  const hashAt = new Map<number, string>();
  let lastSeq = firstSeq - 1;
  const stmt = db.prepare('SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq');
  const { onProgress } = opts;
  const every = opts.progressEvery ?? 10_000;
  if (!Number.isSafeInteger(every) || every < 1) throw new TypeError('verifyAuditDatabase: progressEvery must be a positive integer');
  const expected = onProgress ? Math.max(0, num(db.prepare('SELECT max(seq) AS s FROM audit_events').get(), 's') - firstSeq + 1) : 0;
  onProgress?.(0, expected);
  // Streamed one row at a time (iterate), so a chain of millions never sits in memory.
  function* entries(): Generator<AuditEntry> {
    let read = 0;
    for (const row of stmt.iterate(firstSeq)) {
      // verifyChain asks for the next entry only after it verified every earlier one, so `read`
      // entries are verified at this point.
      if (onProgress && read > 0 && read % every === 0) onProgress(read, expected);
      read++;
      const e = auditEntry(row);
      if (wanted.has(e.seq)) hashAt.set(e.seq, e.hash);
      lastSeq = e.seq;
      yield e;
    }
  }
  const chain = verifyChain(entries(), startHash, firstSeq);
  onProgress?.(chain.entries, expected);
  if (!chain.ok) problems.push(`chain broken at entry ${chain.firstBrokenSeq}: ${chain.problem}`);

  const verdicts: CheckpointVerdict[] = [];
  let newestValid = firstSeq - 1;
  let truncated = false;
  for (const cp of checkpoints) {
    let problem = checkCheckpoint(cp, keys);
    if (!problem && cp.seq >= firstSeq) {
      const h = hashAt.get(cp.seq);
      if (cp.seq > lastSeq) {
        truncated = true;
        problem = `vouches for entry ${cp.seq} but the chain ends at ${lastSeq}: entries were removed`;
      } else if (h !== cp.headHash) problem = `entry ${cp.seq} does not have the hash the checkpoint signed`;
    }
    if (problem) problems.push(`checkpoint ${cp.id} (entry ${cp.seq}): ${problem}`);
    else newestValid = Math.max(newestValid, cp.seq);
    verdicts.push({ id: cp.id, seq: cp.seq, at: cp.at, kid: cp.kid, ok: problem === undefined, ...(problem ? { problem } : {}) });
  }
  return {
    ok: problems.length === 0,
    chain,
    firstSeq,
    anchoredBy,
    checkpoints: verdicts,
    unanchoredEntries: Math.max(0, lastSeq - newestValid),
    truncated,
    problems,
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
 * Verifies the audit trail of a database file, read-only, and times it: the benchmark's
 * "audit chain verification speed" figure (issue 7), measured exactly as `npm run audit:verify`
 * verifies (the same function, one thread).
 */
export function measureAuditVerification(dbFile: string, opts: VerifyAuditOptions = {}): AuditVerificationFigures {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const started = process.hrtime.bigint();
    const report = verifyAuditDatabase(db, opts);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const entries = report.chain.entries;
    return { ok: report.ok, entries, seconds, entriesPerSecond: seconds > 0 ? entries / seconds : 0, report };
  } finally {
    db.close();
  }
}
