/**
 * The person an email address or credential id named in a ceremony request belongs to, if any:
 * the rate limits count that person's own browser apart (issue 13, 1). Reads only.
 */
import type { AccountHolder } from '../../http/rateLimit.js';
import type { CoreDeps } from '../deps.js';

export function holderOf(deps: CoreDeps, account: AccountHolder): Promise<string | undefined> {
  // One statement either way (issue 17: no BEGIN/COMMIT around it on PostgreSQL).
  return deps.store.read(
    async (tx) => {
      if ('email' in account) return (await tx.identities.findActiveByEmail(account.email))?.id;
      return (await tx.credentials.byCredentialId(account.credentialId))?.identityId;
    },
    { oneStatement: true },
  );
}
