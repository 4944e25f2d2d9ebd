/**
 * Signed audit checkpoints (the chain head signed by the HSM key) and retention prunes, as
 * recorded; both append-only. No I/O.
 */
export interface CheckpointRecord {
  id: number;
  seq: number;
  headHash: string;
  at: string;
  kid: string;
  /** The compact JWS of a checkpoint made before signed notes; '' for a signed-note checkpoint. */
  jws: string;
  /** Position in the checkpoint chain (1, 2, ...); null for a checkpoint made before signed notes. */
  n: number | null;
  /** SHA-256 (hex) of the previous checkpoint's signed text; null before signed notes. */
  prevHash: string | null;
  /** The C2SP signed note (server/audit/checkpointNote.ts); null before signed notes. */
  note: string | null;
}

export type NewCheckpoint = Omit<CheckpointRecord, 'id'>;

export interface PruneRecord {
  id: number;
  throughSeq: number;
  anchorCheckpointId: number;
  at: string;
  /** The HSM-signed prune statement (server/audit/prune.ts); null only for a forged or old row. */
  jws: string | null;
}
