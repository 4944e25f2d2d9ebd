/**
 * Issues an identity token from a live security-key session (NSIS 6 (Low) 1: only on a successful
 * authentication or a valid session established by one), signed by the HSM's active key, for one
 * configured audience (NSIS 6 (Substantial) 9). The token is signed first; its audit event is
 * durable before the token leaves (one commit).
 */
import { GatewayError, ServiceUnavailableError } from '../../errors.js';
import { identityTokenClaims, type IdentityTokenClaims } from '../../tokens/identityToken.js';
import type { CoreDeps } from '../deps.js';
import type { SessionView } from '../sessions/resolveSession.js';
import { recordEvent } from '../shared/audit.js';

export async function issueToken(deps: CoreDeps, view: SessionView, audience: string): Promise<{ token: string; claims: IdentityTokenClaims; kid: string }> {
  const { config, clock } = deps;
  if (!deps.signToken) throw new ServiceUnavailableError('Token issuance needs the HSM, which is not configured.', 30);
  if (!config.tokenAudiences.includes(audience)) {
    throw new GatewayError('AUDIENCE_NOT_ALLOWED', 400, `Tokens are not issued for the audience "${audience.slice(0, 200)}".`);
  }
  const organisation = await deps.store.read((tx) => tx.organisations.get(view.identity.organisationId));
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
  const { jws, kid } = await deps.signToken({ ...claims });
  await deps.store.write((tx) =>
    recordEvent(deps, tx, 'token.issued', { identityId: view.identity.id, role: 'holder' }, view.credential.id, {
      jti: claims.jti,
      kid,
      aud: claims.aud,
      sub: claims.sub,
      loa: claims.loa,
      exp: claims.exp,
      clause: 'NSIS 6 (Low) 1-3',
    }),
  );
  return { token: jws, claims, kid };
}
