/**
 * Which signing keys the HSM really holds, asked of the token itself (hsm/publicKeys.ts: the
 * pair is found by CKA_ID and proven by a signature, and its public key must have the row's
 * kid). The JWKS is built from it (NSIS 6 (Low) 4: tokens verify only with the broker's own HSM
 * keys): a row in the database alone never publishes a key.
 */
import type { HsmConnection, KeyPolicyProfile } from '../../hsm/index.js';
import { readTokenSigningKey } from '../../hsm/publicKeys.js';
import type { Logger } from '../logger.js';
import type { SigningKeyRecord } from '../domain/signingKeys.js';
import type { Store } from '../ports/store.js';

/** How long "the HSM does not hold this key" is remembered before the token is asked again. */
const NOT_HELD_RETRY_MS = 60_000;

export class HsmKeyDirectory {
  /** kid -> the public JWK the HSM proved it holds (null: not held, asked again after `retryAt`). */
  private readonly held = new Map<string, { jwk: Record<string, string> | null; retryAt: number }>();

  constructor(
    private readonly deps: {
      /** The token that signs now (the failover group's current member). */
      hsm: () => HsmConnection;
      profile: KeyPolicyProfile;
      store: Store;
      log: Logger;
      /** The public JWK of a key already loaded as a signer in this process (the HSM proved it then). */
      loaded: (kid: string) => Readonly<Record<string, string>> | undefined;
    },
  ) {}

  /** The public JWK of a key row if the HSM holds that key pair; undefined if not, or if the HSM cannot be asked now. */
  async publicJwk(row: SigningKeyRecord): Promise<Record<string, string> | undefined> {
    const loaded = this.deps.loaded(row.kid);
    if (loaded) return { ...loaded };
    const known = this.held.get(row.kid);
    if (known && (known.jwk !== null || known.retryAt > Date.now())) return known.jwk ?? undefined;
    let jwk: Record<string, string> | null = null;
    try {
      const onToken = await readTokenSigningKey(this.deps.hsm(), row.ckaId, this.deps.profile);
      if (onToken && onToken.kid === row.kid) jwk = { ...onToken.publicJwk };
    } catch (err) {
      // The HSM cannot answer now: nothing is remembered, the next call asks again.
      this.deps.log.warn({ kid: row.kid, err: err instanceof Error ? err.message : String(err) }, 'could not ask the HSM for a key');
      return undefined;
    }
    this.held.set(row.kid, { jwk, retryAt: Date.now() + NOT_HELD_RETRY_MS });
    return jwk ?? undefined;
  }

  /** The public JWK of `kid` if a key row names it and the HSM holds that key. */
  async publicJwkOf(kid: string): Promise<Record<string, string> | undefined> {
    const row = await this.deps.store.read((tx) => tx.signingKeys.get(kid));
    return row ? this.publicJwk(row) : undefined;
  }

  /** The key was destroyed: ask the token again next time. */
  forget(kid: string): void {
    this.held.delete(kid);
  }

  /** RFC 7517 JWK Set of the keys published at `at` that the HSM holds, with the HSM's public keys. */
  async jwks(at: string): Promise<{ keys: Record<string, string>[] }> {
    const keys: Record<string, string>[] = [];
    for (const k of await this.deps.store.read((tx) => tx.signingKeys.published(at))) {
      const jwk = await this.publicJwk(k);
      if (jwk) keys.push({ ...jwk, kid: k.kid, alg: k.alg, use: 'sig' });
      else this.deps.log.warn({ kid: k.kid }, 'signing key row whose key the HSM does not hold: not published');
    }
    return { keys };
  }
}
