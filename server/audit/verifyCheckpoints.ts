/**
 * The checks of audit verification that concern signed statements, given the trusted keys
 * (keyRecords.ts resolveKeyTrust): each checkpoint (a signed note, or the JWS of a checkpoint
 * made before notes), the chain of checkpoints (each links to the previous one's signed text and
 * has the next number), each signed prune record, and the witness against the database. Pure.
 */
import type { CheckpointRecord, PruneRecord } from '../domain/checkpoints.js';
import { validAt, type TrustedKey } from '../keys/keyRecords.js';
import { checkpointTextHash, verifyCheckpointNote } from './checkpointNote.js';
import { signedTextOf, CHECKPOINT_TYP } from './Checkpointer.js';
import { verifyEs256Jws } from './compactJws.js';
import { PRUNE_TYP } from './prune.js';
import type { WitnessedCheckpoint } from './witness.js';

type Keys = ReadonlyMap<string, TrustedKey>;

/** The signature of one checkpoint and its place in the checkpoint chain (not the entries it vouches for). */
export function checkpointSignatureProblem(cp: CheckpointRecord, position: number, previous: CheckpointRecord | undefined, keys: Keys): string | undefined {
  const key = keys.get(cp.kid);
  if (!key) return `signed with key ${cp.kid}, which neither the trust anchor nor a trusted key record vouches for`;
  const invalid = validAt(key, cp.at);
  if (invalid) return invalid;
  if (cp.note === null) {
    // A checkpoint from before signed notes: a compact JWS; such checkpoints precede every note.
    if (cp.n !== null || cp.prevHash !== null) return 'a JWS checkpoint with chain fields';
    if (previous?.note) return 'a JWS checkpoint after signed-note checkpoints';
    const v = verifyEs256Jws(cp.jws, cp.kid, key.jwk, CHECKPOINT_TYP);
    if ('problem' in v) return v.problem;
    if (v.payload['seq'] !== cp.seq || v.payload['head'] !== cp.headHash || v.payload['at'] !== cp.at) return 'the signed content differs from the recorded checkpoint';
    return undefined;
  }
  const v = verifyCheckpointNote(cp.note, (kid) => (kid === cp.kid ? key.jwk : undefined));
  if ('problem' in v) return v.problem;
  const b = v.body;
  if (b.seq !== cp.seq || b.headHash !== cp.headHash || b.at !== cp.at || b.n !== cp.n || b.prevHash !== cp.prevHash) return 'the signed content differs from the recorded checkpoint';
  if (b.n !== position) return `it is checkpoint ${b.n} but stands at position ${position}: checkpoints before it were removed`;
  const expectedPrev = previous ? checkpointTextHash(signedTextOf(previous)) : null;
  if (b.prevHash !== expectedPrev) return `it does not link to the checkpoint before it (${previous ? `checkpoint ${previous.n ?? previous.id}` : 'none'}): the checkpoint chain was cut or re-signed`;
  if (previous && b.seq < previous.seq) return 'it vouches for fewer entries than the checkpoint before it';
  return undefined;
}

export interface PruneVerdict {
  id: number;
  throughSeq: number;
  ok: boolean;
  problem?: string;
}

/** A prune record must be signed by a trusted key, active then, over exactly what the row says. */
export function pruneProblem(prune: PruneRecord, checkpoints: readonly CheckpointRecord[], keys: Keys): string | undefined {
  if (!prune.jws) return 'it is not signed (a prune record written into the database by someone other than the gateway)';
  const [h = ''] = prune.jws.split('.');
  let kid: unknown;
  try {
    const header: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    kid = typeof header === 'object' && header !== null ? Reflect.get(header, 'kid') : undefined;
  } catch {
    kid = undefined;
  }
  if (typeof kid !== 'string') return 'its signature names no key';
  const key = keys.get(kid);
  if (!key) return `signed with key ${kid}, which is not trusted`;
  const invalid = validAt(key, prune.at);
  if (invalid) return invalid;
  const v = verifyEs256Jws(prune.jws, kid, key.jwk, PRUNE_TYP);
  if ('problem' in v) return v.problem;
  const anchor = checkpoints.find((c) => c.id === prune.anchorCheckpointId);
  const p = v.payload;
  if (p['throughSeq'] !== prune.throughSeq || p['anchorCheckpointId'] !== prune.anchorCheckpointId || p['at'] !== prune.at) return 'the signed content differs from the row';
  if (!anchor) return 'its anchor checkpoint is missing';
  if (p['anchorHash'] !== checkpointTextHash(signedTextOf(anchor)) || p['anchorHeadHash'] !== anchor.headHash || anchor.seq !== prune.throughSeq) {
    return 'its anchor checkpoint is not the one it signed';
  }
  return undefined;
}

export interface WitnessComparison {
  checkpoints: number;
  matched: number;
  /** The newest checkpoint number the witness holds (0: none). */
  newestWitnessed: number;
  /** Highest entry a witnessed checkpoint vouches for. */
  witnessedSeq: number;
  problems: string[];
}

/**
 * Every witnessed checkpoint must verify and be in the database, byte for byte, at its number;
 * every signed-note checkpoint up to the newest witnessed one must be witnessed.
 */
export function compareWithWitness(witnessed: readonly WitnessedCheckpoint[], checkpoints: readonly CheckpointRecord[], keys: Keys, source: string): WitnessComparison {
  const problems: string[] = [];
  let matched = 0;
  let witnessedSeq = 0;
  const byN = new Map<number, CheckpointRecord>();
  for (const cp of checkpoints) if (cp.n !== null) byN.set(cp.n, cp);
  let maxN = 0;
  for (const w of witnessed) {
    const v = verifyCheckpointNote(w.note, (kid) => keys.get(kid)?.jwk);
    if ('problem' in v) {
      problems.push(`witness ${w.file}: ${v.problem}`);
      continue;
    }
    if (v.body.n !== w.n) {
      problems.push(`witness ${w.file}: holds checkpoint ${v.body.n}, not ${w.n}`);
      continue;
    }
    maxN = Math.max(maxN, w.n);
    witnessedSeq = Math.max(witnessedSeq, v.body.seq);
    const db = byN.get(w.n);
    if (!db) {
      problems.push(`checkpoint ${w.n} (entries up to ${v.body.seq}, made ${v.body.at}) is in the witness but missing from the database: checkpoints were removed (and entries truncated or re-chained)`);
    } else if (db.note !== w.note) {
      problems.push(`checkpoint ${w.n} in the database differs from the one the witness holds: it was replaced`);
    } else {
      matched++;
    }
  }
  const notes = checkpoints.filter((c) => c.n !== null);
  for (const cp of notes) {
    if (cp.n !== null && cp.n <= maxN && !witnessed.some((w) => w.n === cp.n)) problems.push(`checkpoint ${cp.n} is in the database but its witness file is missing from ${source}`);
  }
  if (witnessed.length === 0 && notes.length > 0) {
    problems.push(`the witness ${source} holds none of the database's ${notes.length} signed checkpoints (a wrong directory, or the witness was erased)`);
  }
  return { checkpoints: witnessed.length, matched, newestWitnessed: maxN, witnessedSeq, problems };
}
