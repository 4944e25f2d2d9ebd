/**
 * The IdM API access token: obtained with the system certificate alone (mTLS) from
 * `POST /api/administration/idmlogin/tls/authenticate` -> {accessToken, tokenType, expiresIn},
 * kept in memory only, renewed before it expires (when a tenth of its life, at least 30 s, is
 * left) and on demand after a 401. Concurrent callers share one renewal.
 */
import type { Clock } from '../clock.js';
import { IdmError, errorForStatus } from './errors.js';
import { PATHS, tokenResponseSchema } from './schemas.js';
import type { IdmTransport } from './transport.js';

interface Held {
  token: string;
  obtainedAt: number;
  refreshAt: number;
  expiresAt: number;
}

export interface TokenStatus {
  /** ISO time the current token expires, or null without one. */
  validUntil: string | null;
  /** How many tokens were obtained since start. */
  obtained: number;
}

export class IdmTokenManager {
  private held: Held | null = null;
  private pending: Promise<string> | null = null;
  private obtained = 0;

  constructor(
    private readonly transport: IdmTransport,
    private readonly clock: Clock,
  ) {}

  /** A token valid now, renewing it first when it is close to expiry. */
  async current(): Promise<string> {
    const now = this.clock.now().getTime();
    if (this.held && now < this.held.refreshAt) return this.held.token;
    return this.renew();
  }

  /** After a 401 with `token`: forget it (unless a newer one replaced it meanwhile). */
  invalidate(token: string): void {
    if (this.held?.token === token) this.held = null;
  }

  status(): TokenStatus {
    return { validUntil: this.held ? new Date(this.held.expiresAt).toISOString() : null, obtained: this.obtained };
  }

  private renew(): Promise<string> {
    this.pending ??= this.fetch().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetch(): Promise<string> {
    const what = 'IdM authenticate';
    const answer = await this.transport.send('POST', PATHS.authenticate, {}, what);
    if (answer.status < 200 || answer.status > 299) {
      // A 401/403 here is the certificate itself being refused: no fresh token can help.
      throw errorForStatus(answer.status === 403 ? 401 : answer.status, what, answer.snippet, answer.retryAfterSeconds);
    }
    const parsed = tokenResponseSchema.safeParse(answer.body);
    if (!parsed.success) throw new IdmError('IDM_BAD_RESPONSE', `${what}: the answer is not {accessToken, tokenType, expiresIn}`, { cause: parsed.error });
    if (parsed.data.tokenType.toLowerCase() !== 'bearer') throw new IdmError('IDM_BAD_RESPONSE', `${what}: token type ${parsed.data.tokenType.slice(0, 20)} is not Bearer`);
    const now = this.clock.now().getTime();
    const lifeMs = parsed.data.expiresIn * 1000;
    const margin = Math.min(lifeMs / 2, Math.max(30_000, lifeMs / 10));
    this.held = { token: parsed.data.accessToken, obtainedAt: now, refreshAt: now + lifeMs - margin, expiresAt: now + lifeMs };
    this.obtained++;
    return parsed.data.accessToken;
  }
}
