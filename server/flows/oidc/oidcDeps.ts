/** What the OpenID Provider's flows are given, and the helpers they share. */
import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { Actor, AssuranceLevel } from '../../domain/types.js';
import { minLevel } from '../../assurance/levels.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../ports/store.js';
import type { CoreDeps } from '../deps.js';
import type { SessionView } from '../sessions/resolveSession.js';
import { appendAudit, type AuditData } from '../shared/audit.js';

/** The HSM signing the provider needs: ID tokens and logout tokens, and the published keys. */
export interface OidcSigner {
  signJws(payload: Record<string, unknown>, typ?: string): Promise<{ jws: string; kid: string }>;
  jwks(): Promise<{ keys: Record<string, string>[] }>;
}

export interface OidcDeps {
  store: Store;
  clock: Clock;
  config: Readonly<Config>;
  log: Logger;
  secretKey: Buffer;
  keys: OidcSigner;
  /** The core's flows the provider uses (sessions). */
  core: CoreDeps;
}

/** NSIS 6 (Low) 7: every request and response, in its own transaction (never a secret, only hashes). */
export async function auditOidc(deps: OidcDeps, type: string, actor: Actor, subjectId: string | null, data: AuditData): Promise<void> {
  await deps.store.write((tx) => appendAudit(tx, deps.clock.now().toISOString(), type, actor, subjectId, data));
}

/** The level a session reached: the minimum of the identity's, the key's and the broker's own. */
export function sessionLoa(deps: OidcDeps, view: SessionView): AssuranceLevel {
  return minLevel(view.identity.ial, view.session.aal, deps.config.federationLevel);
}

export function str(q: Record<string, unknown>, k: string, max = 2048): string | undefined {
  const v = q[k];
  return typeof v === 'string' && v.length <= max ? v : undefined;
}

export function redirectWith(uri: string, params: Record<string, string | null | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}
