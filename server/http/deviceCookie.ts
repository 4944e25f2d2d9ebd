/**
 * The device cookie (issue 13, 1; the OWASP "device cookie" defence against account lockout): a
 * browser in which a person has signed in, activated a key or registered one gets a long-lived
 * cookie naming a random device id, MACed together with that person's identity id by the gateway.
 * The rate limits then count that browser's requests for that person on their own: a stranger
 * flooding the person's address or credential id (both public) exhausts only the budget of the
 * browsers that never proved to be theirs. The cookie proves nothing else and grants nothing.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const ID_BYTES = 16;
const ID_CHARS = 22;
const MAC_CHARS = 43;
/** Browsers keep a cookie at most 400 days; a sign-in renews it. */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 24 * 3600;

export class DeviceCookies {
  constructor(private readonly key: Buffer) {}

  private mac(deviceId: string, identityId: string): string {
    return createHmac('sha256', this.key).update('device\0').update(deviceId).update('\0').update(identityId).digest('base64url');
  }

  /**
   * A cookie value binding this browser to `identityId`; the device id of the browser's current
   * cookie is kept (one browser, one id), whoever it was bound to.
   */
  issue(identityId: string, current: string | undefined): string {
    const kept = current !== undefined && current.length === ID_CHARS + MAC_CHARS ? current.slice(0, ID_CHARS) : undefined;
    const deviceId = kept ?? randomBytes(ID_BYTES).toString('base64url');
    return `${deviceId}${this.mac(deviceId, identityId)}`;
  }

  /** The device id when the cookie value was issued by this gateway for `identityId`. */
  trustedFor(value: string | undefined, identityId: string): string | undefined {
    if (value === undefined || value.length !== ID_CHARS + MAC_CHARS) return undefined;
    const deviceId = value.slice(0, ID_CHARS);
    const presented = Buffer.from(value.slice(ID_CHARS), 'base64url');
    const expected = Buffer.from(this.mac(deviceId, identityId), 'base64url');
    return presented.length === expected.length && timingSafeEqual(presented, expected) ? deviceId : undefined;
  }
}
