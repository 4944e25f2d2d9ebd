/**
 * Issues identity tokens (NSIS 6 (Low) 1: only on a successful authentication or a valid
 * session established by one) signed by the HSM's active key, for one named audience.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { SessionView } from '../core/Gateway.js';
import { GatewayError } from '../errors.js';
import type { KeyManager } from '../keys/KeyManager.js';
import type { Store } from '../store/index.js';
import { identityTokenClaims, type IdentityTokenClaims } from './identityToken.js';

export class TokenIssuer {
  constructor(
    private readonly ports: { store: Store; keys: KeyManager; clock: Clock; config: Readonly<Config> },
  ) {}

  async issue(view: SessionView, audience: string): Promise<{ token: string; claims: IdentityTokenClaims; kid: string }> {
    const { store, keys, clock, config } = this.ports;
    if (!config.tokenAudiences.includes(audience)) {
      throw new GatewayError('AUDIENCE_NOT_ALLOWED', 400, `Tokens are not issued for the audience "${audience.slice(0, 200)}".`);
    }
    const organisation = store.getOrganisation(view.identity.organisationId);
    if (!organisation) throw new Error(`identity ${view.identity.id} has no organisation`);
    const claims = identityTokenClaims({
      issuer: config.origin,
      audience,
      identity: view.identity,
      organisation,
      authTime: new Date(view.session.createdAt),
      aal: view.session.aal,
      amr: view.session.amr,
      fal: config.federationLevel,
      now: clock.now(),
      ttlSeconds: config.tokenTtlSeconds,
    });
    const { jws, kid } = await keys.signJws(claims);
    // Group commit: the audit event is durable before the token leaves, with one fsync shared
    // by the sign-ins of the same moment.
    await store.commit(() =>
      store.appendAudit({
        at: clock.now().toISOString(),
        type: 'token.issued',
        actorId: view.identity.id,
        actorRole: 'holder',
        subjectId: view.credential.id,
        data: { jti: claims.jti, kid, aud: claims.aud, sub: claims.sub, loa: claims.loa, exp: claims.exp, clause: 'NSIS 6 (Low) 1-3' },
      }),
    );
    return { token: jws, claims, kid };
  }
}
