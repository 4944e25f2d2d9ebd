/**
 * OpenID Connect Back-Channel Logout URIs are requests the gateway makes on a relying party's
 * word. Outside development mode they must point at public addresses (issue 13, 9: blind SSRF
 * against loopback, private or link-local services otherwise). Checked at registration (here) and
 * again at every delivery (net/outboundTarget.ts postForm).
 */
import { ValidationError } from '../errors.js';
import { refusedTarget, refusedWithoutLookup, type TargetRefusal } from '../net/outboundTarget.js';

function refusalError(uri: string, refusal: TargetRefusal): ValidationError {
  const why =
    refusal.reason === 'not-http'
      ? 'must be an http(s) URL'
      : `points at ${refusal.address}, a loopback, private, link-local or otherwise non-public address; only a gateway in development mode (GATEWAY_DEVELOPMENT_MODE) sends logout tokens there`;
  return new ValidationError(`The back-channel logout URI ${why}: ${uri}`, [{ path: 'backchannelLogoutUri', message: why }]);
}

/** Without DNS: the scheme, an address literal, `localhost`. For synchronous callers. */
export function checkBackchannelLogoutUriSync(uri: string, developmentMode: boolean): void {
  const refusal = refusedWithoutLookup(uri, developmentMode);
  if (refusal) throw refusalError(uri, refusal);
}

/** The same, and the host name resolved: refused if any address it resolves to is not public. */
export async function checkBackchannelLogoutUri(uri: string, developmentMode: boolean): Promise<void> {
  const refusal = await refusedTarget(uri, developmentMode);
  if (refusal) throw refusalError(uri, refusal);
}
