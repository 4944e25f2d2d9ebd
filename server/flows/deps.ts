/**
 * What every flow is given (CONVENTIONS: flows are functions over ports). Built once by the
 * runtime (server/runtime.ts); a flow never holds per-request state outside its arguments, and
 * what happens after a commit goes through `tx.afterCommit`.
 */
import type { AssuranceService } from '../assurance/AssuranceService.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { KeyPopulation } from '../domain/keys.js';
import type { SessionRecord } from '../domain/sessions.js';
import type { Logger } from '../logger.js';
import type { Store } from '../ports/store.js';
import type { GatewayEvent } from './events.js';

/** Signs an identity token's claims with the HSM's active key (the Signer port of the key manager). */
export type TokenSigner = (claims: Record<string, unknown>) => Promise<{ jws: string; kid: string }>;

export interface CoreDeps {
  store: Store;
  clock: Clock;
  config: Readonly<Config>;
  /** The gateway's secret for keyed hashes (enrolment links, codes, decoys). */
  secretKey: Buffer;
  log: Logger;
  /** Decides each new key's authenticator assurance (attestation policy, FIDO metadata). */
  assurance: AssuranceService;
  /** Asks the outbox to deliver now; flows call it after a commit that queued mail. */
  kickOutbox(): void;
  /** After a commit: what it recorded, for the metrics. */
  observe(event: GatewayEvent): void;
  /** After a commit: sessions a lifecycle change ended (back-channel logout to the relying parties). */
  sessionsEnded(sessions: SessionRecord[]): void;
  /** Identity tokens signed by the HSM (absent without an HSM). */
  signToken: TokenSigner | undefined;
  /** This process's survey of the key population behind the decoys (issue 13, 8). */
  population: { surveyedAt: number; value: KeyPopulation } | undefined;
}
