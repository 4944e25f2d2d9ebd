/** What the security page's modules share: who is signed in, the keys and requests as last loaded, and the reload hook. */
import type { Identity } from '../common.js';
import type { KeyRequest, SigningKey } from './types.js';

export const state = {
  me: null as Identity | null,
  keys: [] as SigningKey[],
  requests: [] as KeyRequest[],
  /** False once the session ended or the role was withdrawn: late answers are then ignored. */
  allowed: false,
  /** True while there is one security officer: a request is carried out at once (two-person control off). */
  alone: false,
  /** Reloads keys and requests (set by the page's entry, security.ts); false if anything failed. */
  refresh: (): Promise<boolean> => Promise.resolve(false),
};
