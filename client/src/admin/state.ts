// What the administration page knows now: the signed-in administrator, the search results, the
// person open, and the person just added.
import type { Identity } from '../common.js';
import type { IdentitySummary } from '../console.js';
import type { AdminIdentity } from './types.js';

/** The page's state (one object, so that every module reads and changes the same values). */
export const ad: {
  me: Identity | null;
  /** False once the session ended or the role was withdrawn: late answers are then ignored. */
  allowed: boolean;
  results: IdentitySummary[];
  person: AdminIdentity | null;
  created: AdminIdentity | null;
} = { me: null, allowed: false, results: [], person: null, created: null };
