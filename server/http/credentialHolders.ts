/**
 * Whose a credential id is, remembered in this process for the rate limits' trusted-browser check
 * (rateLimit.ts, issue 13, 1): a sign-in's verify names its credential id, and the per-account
 * limits ask whether this browser's device cookie was issued to that credential's holder.
 *
 * Issue 17 (nothing read twice in a sign-in): that question cost one store read per sign-in
 * besides the sign-in's own. Only the answer "credential C belongs to identity I" is kept, and it
 * never goes stale: a credential is never deleted or moved to another identity (its state changes,
 * its holder does not), and a credential id is registered once (a second registration of the same
 * id is refused), so no commit anywhere can change what is remembered and nothing needs to be
 * invalidated. An unknown id is not remembered (it may be registered a moment later), and
 * neither is anything about email addresses, which do change hands. The holder decides nothing
 * but which budget of the rate limits a request uses; the sign-in reads the credential itself.
 */
export class CredentialHolders {
  private readonly holders = new Map<string, string>();

  /** `max`: the most ids remembered; the oldest is forgotten first. */
  constructor(
    private readonly lookUp: (credentialId: string) => Promise<string | undefined>,
    private readonly max = 20_000,
  ) {}

  async holderOf(credentialId: string): Promise<string | undefined> {
    const known = this.holders.get(credentialId);
    if (known !== undefined) return known;
    const identityId = await this.lookUp(credentialId);
    if (identityId !== undefined) {
      if (this.holders.size >= this.max) {
        const oldest = this.holders.keys().next();
        if (!oldest.done) this.holders.delete(oldest.value);
      }
      this.holders.set(credentialId, identityId);
    }
    return identityId;
  }
}
