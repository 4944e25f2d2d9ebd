/**
 * The gateway's use cases over its ports (store, clock, outbox, secret key). No HTTP here: the
 * edge validates input and maps results; this file decides. Every state change runs in one
 * transaction with its audit event and its notifications (CONVENTIONS 3-4).
 */
import { randomUUID } from 'node:crypto';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { JsonValue } from '../audit/canonicalJson.js';
import {
  backupEligibilityChange,
  buildAuthenticationOptions,
  buildRegistrationOptions,
  challengeOf,
  counterWentBackwards,
  verifyAssertion,
  verifyRegistration,
} from '../ceremonies/index.js';
import type { AssuranceService } from '../assurance/AssuranceService.js';
import { amrFor, authenticatorLevel } from '../assurance/levels.js';
import { addMinutes, addSeconds, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import {
  SYSTEM_ACTOR,
  type Actor,
  type AssignedRole,
  type AssuranceLevel,
  type Credential,
  type CredentialState,
  type Identity,
  type Organisation,
  type ReasonCode,
} from '../domain/types.js';
import {
  ActivationError,
  CeremonyError,
  EnrolmentError,
  EnrolmentLockedError,
  ForbiddenError,
  GatewayError,
  LifecycleError,
  NotFoundError,
  RateLimitedError,
  SegregationError,
  SignInFailedError,
  ValidationError,
} from '../errors.js';
import { decideTransition, type Evidence, type LifecycleAction, type TransitionRow } from '../lifecycle/index.js';
import type { Logger } from '../logger.js';
import type { OutboxDispatcher } from '../outbox/index.js';
import { queueMail } from '../outbox/queueMail.js';
import {
  hashesEqual,
  keyedHash,
  normaliseCode,
  plainHash,
  randomActivationCode,
  randomToken,
} from '../security/oneTimeSecrets.js';
import { withdrawPendingRequests } from '../approvals/withdraw.js';
import { isStaffRole } from '../duties/decide.js';
import { enrolmentHandoverMail, enrolmentLinkMail } from '../duties/mails.js';
import { normaliseEmail, type Ceremony, type ChallengeRecord, type SessionRecord, type Store } from '../store/index.js';
import { decoyCredentials, type DecoyCredential, type KeyPopulation } from '../ceremonies/decoys.js';
import { activationCodeMail, bindingEndedMail, cloneAlertMail, compromiseAlertMail, formatCode, transitionMail, type Mail } from '../lifecycle/mails.js';

/** How often the key population behind the decoys is surveyed again (issue 13, 8). */
const POPULATION_SURVEY_MS = 10 * 60_000;

/** The stored hash of a code not minted yet (its mail not delivered): matches nothing. */
const NOT_YET_MINTED = '';
/** The stored token hash of a mailed link not minted yet (+ its id, the column is unique): matches nothing. */
const NOT_YET_MINTED_LINK = 'unminted:';

/** An enrolment link as issued: mailed (its token minted at delivery), or in this answer only. */
export type IssuedEnrolment =
  | { delivery: 'mail'; enrolmentId: string; expiresAt: string; sentTo: string | null }
  | { delivery: 'handover' | 'operator'; enrolmentId: string; expiresAt: string; token: string; link: string };

/**
 * How an enrolment link reaches the person: by mail to the bound address (the default), handed
 * over in person by the issuer (an explicit, audited choice), or printed for the operator who
 * installs the gateway (the first administrator only).
 */
export type EnrolmentDelivery = 'mail' | 'handover' | 'operator';

/** NSIS 3.2.2: codes lock after this many wrong attempts. */
export const MAX_CODE_ATTEMPTS = 5;
/** NSIS 3.2.2: an enrolment link locks after this many failed registrations through it. */
export const MAX_ENROLMENT_FAILURES = 5;
const LABEL_MAX = 64;
const CHALLENGE_EXPIRED = 'The challenge has expired. Start again.';

export interface GatewayPorts {
  /** Decides each new key's authenticator assurance (attestation policy, FIDO metadata). */
  assurance: AssuranceService;
  store: Store;
  clock: Clock;
  outbox: OutboxDispatcher;
  secretKey: Buffer;
  config: Readonly<Config>;
  log: Logger;
}

export interface SessionView {
  identity: Identity;
  session: SessionRecord;
  credential: Credential;
}

export interface IssuedSession {
  sessionId: string;
  identity: Identity;
  credential: Credential;
}

type ChallengeCheck = { ceremony: Ceremony; flowId: string };

/** An operator's hourly cap of suspensions and revocations was reached (audited in the transaction). */
type StaffCapReached = { capReached: true; inLastHour: number; retryAfterSeconds: number };

/**
 * What the core tells an observer (metrics) after each commit: the same facts as the audit events
 * it just committed, with bounded labels. The core knows nothing of the observer's technology.
 */
export type GatewayEvent =
  | { kind: 'ceremony'; ceremony: 'enrolment' | 'activation' | 'signin'; outcome: 'succeeded' | 'refused' }
  | { kind: 'refusal'; event: string; reason: string }
  | { kind: 'transition'; action: LifecycleAction | 'issue'; from: CredentialState | 'none'; to: CredentialState };

const CEREMONY_OF_EVENT: Readonly<Record<string, 'enrolment' | 'activation' | 'signin'>> = {
  'enrolment.refused': 'enrolment',
  'activation.refused': 'activation',
  'signin.refused': 'signin',
};

export class Gateway {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly outbox: OutboxDispatcher;
  private readonly key: Buffer;
  private readonly config: Readonly<Config>;
  private readonly log: Logger;

  /** Told (after commit) about sessions a lifecycle change ended, e.g. for back-channel logout. */
  onSessionsEnded: ((sessions: SessionRecord[]) => void) | undefined;
  private endedInTransaction: SessionRecord[] = [];

  /** Told (after commit) what each transaction recorded: ceremonies, refusals, transitions. */
  onEvent: ((event: GatewayEvent) => void) | undefined;
  private observedInTransaction: GatewayEvent[] = [];

  /**
   * Every transaction of the core: the store's IMMEDIATE transaction, after whose commit the
   * observer hears what it recorded (nothing of a rolled-back one). A transaction nested in
   * another of the core reports with the outermost one.
   */
  private tx<T>(fn: () => T): T {
    const mark = this.observedInTransaction.length;
    const outermost = this.txDepth === 0;
    let result: T;
    this.txDepth++;
    try {
      result = this.store.transaction(fn);
    } catch (err) {
      this.observedInTransaction.length = mark;
      throw err;
    } finally {
      this.txDepth--;
    }
    if (outermost) this.report(this.observedInTransaction.splice(0));
    return result;
  }

  /**
   * The same on the hot paths of the ceremonies, through the store's group commit: callers in
   * the same turn of the event loop share one durable COMMIT (one fsync), each in its own
   * savepoint. Resolves after that commit; the observer hears only what was committed.
   */
  private async txAsync<T>(fn: () => T): Promise<T> {
    let observed: GatewayEvent[] = [];
    const result = await this.store.commit(() => {
      this.txDepth++;
      try {
        const value = fn();
        observed = this.observedInTransaction;
        return value;
      } finally {
        this.txDepth--;
        this.observedInTransaction = [];
      }
    });
    this.report(observed);
    return result;
  }

  private txDepth = 0;

  private report(observed: GatewayEvent[]): void {
    for (const event of observed) {
      try {
        this.onEvent?.(event);
      } catch (err) {
        // An observer's failure never turns a committed change into an error.
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'gateway event observer failed');
      }
    }
  }

  /** Inside a transaction: what an audit event means for the observer (bounded labels only). */
  private observe(type: string, data: { [key: string]: JsonValue }): void {
    if (!this.onEvent) return;
    if (type.endsWith('.refused') || type === 'staff-action.rate-limited') {
      const reason = data['reason'];
      this.observedInTransaction.push({ kind: 'refusal', event: type, reason: typeof reason === 'string' ? reason : type });
      const ceremony = CEREMONY_OF_EVENT[type];
      if (ceremony) this.observedInTransaction.push({ kind: 'ceremony', ceremony, outcome: 'refused' });
    } else if (type === 'credential.issued') {
      this.observedInTransaction.push({ kind: 'ceremony', ceremony: 'enrolment', outcome: 'succeeded' });
      this.observedInTransaction.push({ kind: 'transition', action: 'issue', from: 'none', to: 'issued' });
    } else if (type === 'signin.succeeded') {
      this.observedInTransaction.push({ kind: 'ceremony', ceremony: data['via'] === 'activation' ? 'activation' : 'signin', outcome: 'succeeded' });
    }
  }

  /** Hands sessions ended by the last committed change to the listener (re-read: only real ends). */
  private flushEndedSessions(): void {
    const candidates = this.endedInTransaction;
    this.endedInTransaction = [];
    const ended = candidates.filter((s) => this.store.getSession(s.idHash)?.endedAt);
    if (ended.length > 0) this.onSessionsEnded?.(ended);
  }

  private readonly assurance: AssuranceService;

  constructor(ports: GatewayPorts) {
    this.assurance = ports.assurance;
    this.store = ports.store;
    this.clock = ports.clock;
    this.outbox = ports.outbox;
    this.key = ports.secretKey;
    this.config = ports.config;
    this.log = ports.log;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  // --- organisation and identities ------------------------------------------------------------

  /** Creates the organisation if absent (idempotent by CVR). */
  ensureOrganisation(cvr: string, name: string): Organisation {
    return this.tx(() => {
      const existing = this.store.getOrganisationByCvr(cvr);
      if (existing) return existing;
      const org: Organisation = { id: randomUUID(), cvr, name, createdAt: this.now() };
      this.store.insertOrganisation(org);
      this.audit('organisation.created', SYSTEM_ACTOR, org.id, { cvr, name });
      return org;
    });
  }

  /**
   * Binds a person to the organisation (NSIS 5.2) with the identity assurance reached and how it
   * was proofed (NSIS 3.1.2).
   */
  createIdentity(
    actor: Actor,
    input: { organisationId: string; name: string; email: string; ial: AssuranceLevel; proofingMethod: string; roles: AssignedRole[] },
  ): Identity {
    // NSIS 5.2 (Substantial) 8: staff roles given by a person go through the duties table (a
    // role grant, StaffConsole); only the operator's installation (system) binds with them.
    if (actor.role !== 'system' && input.roles.some(isStaffRole)) throw new TypeError('staff roles are granted through the duties table, not at creation');
    return this.tx(() => {
      if (!this.store.getOrganisation(input.organisationId)) throw new NotFoundError('Unknown organisation.');
      if (this.store.findActiveIdentityByEmail(input.email)) {
        throw new GatewayError('CONFLICT', 409, 'An employee with this email address is already bound to the organisation.');
      }
      const id = randomUUID();
      const at = this.now();
      this.store.insertIdentity({
        id,
        organisationId: input.organisationId,
        name: input.name,
        email: input.email,
        ial: input.ial,
        proofingMethod: input.proofingMethod,
        proofedBy: actor.identityId,
        createdAt: at,
      });
      const roles = Array.from(new Set<AssignedRole>(['employee', ...input.roles]));
      for (const role of roles) this.store.grantRole(id, role, actor.identityId, at);
      // Who set this person up: such a person is never that requester's second person.
      this.store.setups.record({ identityId: id, aspect: 'identity', detail: null, setBy: actor.identityId, approvedBy: null, at });
      for (const role of roles.filter(isStaffRole)) this.store.setups.record({ identityId: id, aspect: 'role', detail: role, setBy: actor.identityId, approvedBy: null, at });
      this.audit('identity.created', actor, id, {
        organisationId: input.organisationId,
        ial: input.ial,
        proofingMethod: input.proofingMethod,
        roles,
      });
      const identity = this.store.getIdentity(id);
      if (!identity) throw new Error('identity vanished inside its own transaction');
      return identity;
    });
  }

  /**
   * The person an email address or credential id named in a ceremony request belongs to, if any
   * (the rate limits count that person's own browser apart: issue 13, 1). Reads only.
   */
  holderOf(account: { email: string } | { credentialId: string }): string | undefined {
    if ('email' in account) return this.store.findActiveIdentityByEmail(account.email)?.id;
    return this.store.getCredentialByCredentialId(account.credentialId)?.identityId;
  }

  getIdentity(id: string): Identity {
    const identity = this.store.getIdentity(id);
    if (!identity) throw new NotFoundError('Unknown identity.');
    return identity;
  }

  /** Requires that `actor` holds `role` and is still bound; returns the actor's identity. */
  requireRole(identityId: string, role: AssignedRole): Identity {
    const identity = this.store.getIdentity(identityId);
    if (!identity || identity.bindingState !== 'active') throw new ForbiddenError('BINDING_ENDED', 'Your binding to the organisation has ended.');
    if (!identity.roles.includes(role)) throw new ForbiddenError('ROLE_REQUIRED', `This action needs the ${role} role.`);
    return identity;
  }

  // --- enrolment (NSIS 3.2.2 issuing) --------------------------------------------------------

  /**
   * Issues a one-time enrolment link. Any earlier open link of the identity is withdrawn, so at
   * most one is ever valid. The token is returned once and stored only as a keyed hash.
   */
  issueEnrolment(
    actor: Actor,
    identityId: string,
    replacement?: { replacesCredentialId: string | null; basis: string },
    delivery: EnrolmentDelivery = actor.role === 'system' ? 'operator' : 'mail',
  ): IssuedEnrolment {
    if (actor.role !== 'system' && actor.identityId === identityId) {
      throw new SegregationError('You cannot issue an enrolment for yourself; ask another administrator.');
    }
    if ((actor.role === 'system') !== (delivery === 'operator')) throw new TypeError('only the installation hands a link to the operator');
    if (this.addressSetUpAloneBy(identityId, actor.identityId)) {
      // NSIS 3.2.2 (High) 3: the possession factor and the second channel never both pass
      // through one staff member: not to an address this issuer changed without a second person.
      this.refuse('enrolment.refused', identityId, { reason: 'address-set-up-alone-by-issuer', by: actor.identityId });
      throw new SegregationError('You changed this person’s email address without a second person’s approval, so you cannot issue their enrolment; ask a colleague.');
    }
    const at = this.clock.now();
    const expiresAt = addMinutes(at, this.config.enrolmentTtlMinutes).toISOString();
    const enrolmentId = randomUUID();
    // Issue 13, 5: a mailed link's token is minted at delivery (mintSecret), never stored in clear;
    // until then the row holds a value no keyed hash can equal. A link handed over (or printed for
    // the installing operator) exists only in this answer.
    const token = delivery === 'mail' ? undefined : randomToken(32);
    let sentTo: string | null = null;
    this.tx(() => {
      const identity = this.store.getIdentity(identityId);
      if (!identity) throw new NotFoundError('Unknown identity.');
      if (identity.bindingState !== 'active') throw new ForbiddenError('BINDING_ENDED', 'The identity is no longer bound to the organisation.');
      const issuerName = actor.identityId ? (this.store.getIdentity(actor.identityId)?.name ?? null) : null;
      // NSIS 3.2.2 (Substantial) 2: by default the link goes to the person, at the bound address;
      // handing it over in person is an explicit choice, audited, and told to that address.
      if (delivery === 'mail') {
        this.queueMail(enrolmentLinkMail(identity, enrolmentId, expiresAt, issuerName, this.config.timeZone));
        sentTo = maskEmail(identity.email);
      } else if (delivery === 'handover') {
        this.queueMail(enrolmentHandoverMail(identity, issuerName, at.toISOString(), expiresAt, this.config.timeZone));
      }
      const superseded = this.store.supersedeOpenEnrolments(identityId, at.toISOString());
      this.store.insertEnrolment({
        id: enrolmentId,
        identityId,
        tokenHash: token === undefined ? `${NOT_YET_MINTED_LINK}${enrolmentId}` : keyedHash(this.key, 'enrolment', token),
        createdBy: actor.identityId,
        replacesCredentialId: replacement?.replacesCredentialId ?? null,
        basis: replacement?.basis ?? null,
        createdAt: at.toISOString(),
        expiresAt,
        consumedAt: null,
        supersededAt: null,
      });
      this.audit('enrolment.issued', actor, identityId, {
        enrolmentId,
        expiresAt,
        delivery,
        supersededEarlier: superseded,
        ...(replacement ? { replacesCredentialId: replacement.replacesCredentialId, basis: replacement.basis, clause: 'NSIS 3.2.4, 5.1' } : {}),
      });
    });
    this.outbox.kick();
    if (token === undefined) return { delivery: 'mail', enrolmentId, expiresAt, sentTo };
    return { delivery: delivery === 'operator' ? 'operator' : 'handover', enrolmentId, expiresAt, token, link: this.enrolmentLink(token) };
  }

  /**
   * The installing operator's link (first administrator, recovery): printed to a 0600 file by the
   * caller, never mailed and never logged.
   */
  issueOperatorEnrolment(identityId: string): { enrolmentId: string; expiresAt: string; token: string; link: string } {
    const issued = this.issueEnrolment(SYSTEM_ACTOR, identityId, undefined, 'operator');
    if (issued.delivery === 'mail') throw new TypeError('an operator enrolment is never mailed');
    return issued;
  }

  private enrolmentLink(token: string): string {
    return `${this.config.origin}/enrol.html#token=${token}`;
  }

  /**
   * NSIS 3.2.2 (High) 3: the person's current address came from a contact change `by` made with
   * no second person's approval (a change from before approvals existed, or the operator's tools).
   */
  private addressSetUpAloneBy(identityId: string, by: string | null): boolean {
    if (by === null) return false;
    const change = this.store.setups.lastContactChange(identityId);
    return change !== undefined && change.approvedBy === null && change.setBy === by;
  }

  private liveEnrolment(token: string): { enrolmentId: string; identity: Identity; expiresAt: string } {
    const enrolment = this.store.getEnrolmentByTokenHash(keyedHash(this.key, 'enrolment', token));
    const now = this.now();
    if (!enrolment) {
      this.refuse('enrolment.refused', null, { reason: 'unknown-link' });
      throw new EnrolmentError();
    }
    const identity = this.store.getIdentity(enrolment.identityId);
    const why = enrolment.consumedAt
      ? 'already-used'
      : enrolment.supersededAt
        ? 'superseded'
        : enrolment.expiresAt <= now
          ? 'expired'
          : !identity || identity.bindingState !== 'active'
            ? 'binding-ended'
            : null;
    if (why === null && enrolment.lockedAt !== null) {
      this.refuse('enrolment.refused', enrolment.identityId, { enrolmentId: enrolment.id, reason: 'locked' });
      throw new EnrolmentLockedError();
    }
    if (why !== null || !identity) {
      // CONVENTIONS 4: a second use of a single-use link is refused and audited.
      this.refuse('enrolment.refused', enrolment.identityId, { enrolmentId: enrolment.id, reason: why ?? 'binding-ended' });
      throw new EnrolmentError();
    }
    return { enrolmentId: enrolment.id, identity, expiresAt: enrolment.expiresAt };
  }

  async beginEnrolment(
    token: string,
    flowId: string,
  ): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; holder: { name: string; email: string }; expiresAt: string }> {
    const { enrolmentId, identity, expiresAt } = this.liveEnrolment(token);
    const existing = this.store.listCredentialsOfIdentity(identity.id).filter((c) => c.state !== 'revoked' && c.state !== 'expired');
    const options = await buildRegistrationOptions({
      rpName: this.config.rpName,
      rpId: this.config.rpId,
      userId: identity.id,
      userName: identity.email,
      userDisplayName: identity.name,
      excludeCredentialIds: existing.map((c) => c.credentialId),
      attestation: this.config.attestation.conveyance,
    });
    await this.storeChallenge(options.challenge, 'registration', flowId, identity.id, enrolmentId);
    return { options, holder: { name: identity.name, email: identity.email }, expiresAt };
  }

  /**
   * NSIS 3.2.2: the registered key starts `issued`; the activation code goes through the second
   * channel (outbox) in the same transaction that consumes the enrolment.
   */
  async completeEnrolment(
    token: string,
    flowId: string,
    label: string,
    response: RegistrationResponseJSON,
  ): Promise<{ credential: Credential; activation: { sentTo: string; expiresAt: string } }> {
    const { enrolmentId, identity } = this.liveEnrolment(token);
    const issuer = this.store.getEnrolment(enrolmentId)?.createdBy ?? null;
    if (this.addressSetUpAloneBy(identity.id, issuer)) {
      // NSIS 3.2.2 (High) 3: no activation code to an address the link's issuer set up alone.
      this.refuse('enrolment.refused', identity.id, { enrolmentId, reason: 'address-set-up-alone-by-issuer', by: issuer });
      throw new SegregationError('The person who issued this link changed the email address alone; no activation code is sent there. Ask another administrator for a new link.');
    }
    let challenge: ChallengeRecord;
    try {
      challenge = await this.takeChallenge(response.response.clientDataJSON, { ceremony: 'registration', flowId }, identity.id);
    } catch (err) {
      throw this.countEnrolmentFailure(enrolmentId, identity.id, err);
    }
    if (challenge.enrolmentId !== enrolmentId) {
      this.refuse('enrolment.refused', identity.id, { reason: 'challenge-for-other-enrolment' });
      throw this.countEnrolmentFailure(
        enrolmentId,
        identity.id,
        new CeremonyError('CHALLENGE_INVALID', 'This registration was started for another enrolment. Start again.'),
      );
    }
    let key;
    try {
      key = await verifyRegistration(response, { challenge: challenge.challenge, origin: this.config.origin, rpId: this.config.rpId });
    } catch (err) {
      this.refuse('enrolment.refused', identity.id, { reason: 'registration-not-verified', detail: detailOf(err) });
      throw this.countEnrolmentFailure(enrolmentId, identity.id, err);
    }
    if (this.store.getCredentialByCredentialId(key.credentialId)) {
      // WebAuthn §7.1: a credential id registered already (a real authenticator makes fresh ones).
      this.refuse('enrolment.refused', identity.id, { reason: 'credential-already-registered' });
      throw this.countEnrolmentFailure(enrolmentId, identity.id, new GatewayError('CONFLICT', 409, 'This security key is already registered.'));
    }
    // NSIS 3.2.1: the level this key can reach, decided from its evidence before it is issued.
    const assessment = this.assurance.assess(key);
    if (assessment.decision.refused) {
      this.refuse('enrolment.refused', identity.id, { reason: 'authenticator-refused', aaguid: key.aaguid, why: assessment.decision.reasons.join('; ') });
      throw new GatewayError('AUTHENTICATOR_REFUSED', 400, `This security key is not accepted by the organisation: ${assessment.decision.reasons.join('; ')}.`);
    }
    const at = this.clock.now();
    const codeExpiresAt = addMinutes(at, this.config.activationCodeTtlMinutes).toISOString();
    const outcome = await this.txAsync((): Credential | { refused: 'already-used' | 'credential-already-registered' } => {
      // CONVENTIONS 4: single use. A refusal returns (not throws) so that its audit event, made
      // below in a transaction of its own, is not rolled back with this one.
      // Both checks come before any write: a refusal must leave the link as it was.
      if (this.store.getCredentialByCredentialId(key.credentialId)) return { refused: 'credential-already-registered' };
      if (!this.store.consumeEnrolment(enrolmentId, at.toISOString())) return { refused: 'already-used' };
      const id = randomUUID();
      this.store.insertCredential({
        id,
        identityId: identity.id,
        credentialId: key.credentialId,
        publicKey: key.publicKey,
        aaguid: key.aaguid,
        signCount: key.signCount,
        transports: key.transports,
        backupEligible: key.backupEligible,
        backupState: key.backupState,
        attestationFormat: key.attestationFormat,
        attestationObject: key.attestationObject,
        userVerifiedAtRegistration: key.userVerified,
        label: cleanLabel(label),
        state: 'issued',
        stateReason: null,
        createdAt: at.toISOString(),
        expiresAt: null,
        enrolmentId,
        aal: assessment.decision.level,
        attestationVerified: assessment.evidence.attestationVerified,
        model: assessment.model,
        certification: assessment.evidence.certification,
        aalReasons: assessment.decision.reasons,
      });
      const seq = this.audit('credential.issued', { identityId: identity.id, role: 'holder' }, id, {
        identityId: identity.id,
        enrolmentId,
        aaguid: key.aaguid,
        attestationFormat: key.attestationFormat,
        attestationVerified: assessment.evidence.attestationVerified,
        backupEligible: key.backupEligible,
        aal: assessment.decision.level,
        model: assessment.model,
        certification: assessment.evidence.certification,
        clause: 'NSIS 3.2.1, 3.2.2',
      });
      this.store.insertCredentialEvent({
        credentialId: id,
        action: 'issue',
        fromState: null,
        toState: 'issued',
        actorId: identity.id,
        actorRole: 'holder',
        reason: 'registered',
        note: null,
        clause: 'NSIS 3.2.2',
        at: at.toISOString(),
        auditSeq: seq,
      });
      const created = this.mustGetCredential(id);
      this.issueCode(created, identity, codeExpiresAt, 'activate', { identityId: identity.id, role: 'holder' });
      return created;
    });
    if ('refused' in outcome) {
      // A race lost to a concurrent use of the same link or key: refused and audited.
      this.refuse('enrolment.refused', identity.id, { enrolmentId, reason: outcome.refused });
      if (outcome.refused === 'already-used') throw new EnrolmentError();
      throw new GatewayError('CONFLICT', 409, 'This security key is already registered.');
    }
    const credential = outcome;
    this.outbox.kick();
    return { credential, activation: { sentTo: maskEmail(identity.email), expiresAt: codeExpiresAt } };
  }

  /**
   * NSIS 3.2.2: a failed registration through a live link (a challenge that is not this link's
   * or this browser's, or a response that does not verify) is counted; at MAX_ENROLMENT_FAILURES
   * the link locks, with its own audit event, and only a new link from an administrator helps.
   * An expired challenge (a slow holder) and a key the policy refuses (a holder trying another
   * model) are not tampering and are not counted. Returns the error to throw.
   */
  private countEnrolmentFailure(enrolmentId: string, identityId: string, err: unknown): unknown {
    if (err instanceof CeremonyError && err.detail === CHALLENGE_EXPIRED) return err;
    const locked = this.tx(() => {
      const counted = this.store.recordFailedEnrolmentAttempt(enrolmentId, MAX_ENROLMENT_FAILURES, this.now());
      if (!counted?.locked) return false;
      this.audit('enrolment.locked', SYSTEM_ACTOR, identityId, { enrolmentId, attempts: counted.attempts, clause: 'NSIS 3.2.2' });
      return true;
    });
    if (locked) this.log.warn({ event: 'enrolment.locked', subjectId: identityId }, 'enrolment link locked after failed registrations');
    return locked ? new EnrolmentLockedError() : err;
  }

  /**
   * Opens a new code (withdrawing older ones) and queues its mail to the holder. Inside a
   * transaction. The code itself does not exist yet: it is minted when the mail is delivered
   * ({@link mintSecret}), so it is never stored in clear (issue 13, 5); until then no code matches.
   */
  private issueCode(key: Credential, holder: Identity, expiresAt: string, purpose: 'activate' | 'reactivate', actor: Actor): void {
    const at = this.now();
    this.store.supersedeOpenCodes(key.id, at);
    const codeId = randomUUID();
    this.store.insertActivationCode({
      id: codeId,
      credentialId: key.id,
      purpose,
      codeHash: NOT_YET_MINTED,
      requestedBy: actor.identityId,
      createdAt: at,
      expiresAt,
    });
    this.queueMail(activationCodeMail(holder, key, codeId, expiresAt, purpose, this.config.timeZone));
    this.audit('activation-code.issued', actor, key.id, { codeId, purpose, expiresAt, channel: 'email' });
  }

  /**
   * The outbox's secret minter: called just before a code mail is delivered. Draws a fresh code,
   * commits its keyed hash (durably, before the mail leaves) and returns the code for the mail
   * text, in memory only. Undefined when the code was withdrawn, used, locked or expired meanwhile
   * (the mail is then not sent). A mail delivered twice carries two codes; the newest works.
   */
  mintSecret(ref: string): string | undefined {
    const link = /^enrolment-link:([0-9a-f-]{36})$/.exec(ref);
    if (link?.[1]) {
      const enrolmentId = link[1];
      const token = randomToken(32);
      const minted = this.tx(() => this.store.mintEnrolmentToken(enrolmentId, keyedHash(this.key, 'enrolment', token), this.now()));
      return minted ? this.enrolmentLink(token) : undefined;
    }
    const m = /^activation-code:([0-9a-f-]{36})$/.exec(ref);
    if (!m?.[1]) throw new TypeError(`unknown secret reference ${ref}`);
    const codeId = m[1];
    const code = randomActivationCode();
    const minted = this.tx(() => this.store.mintActivationCode(codeId, keyedHash(this.key, `activation:${codeId}`, code), this.now()));
    return minted ? formatCode(code) : undefined;
  }

  // --- activation (NSIS 3.2.2) and reactivation (NSIS 3.2.3 (Low) 3) ---------------------------

  async beginActivation(email: string, flowId: string): Promise<{ options: PublicKeyCredentialRequestOptionsJSON }> {
    const identity = this.store.findActiveIdentityByEmail(email);
    const keys = identity ? this.store.listCredentialsOfIdentity(identity.id) : [];
    const pending = keys.filter((c) => (c.state === 'issued' || c.state === 'suspended') && this.store.latestOpenCode(c.id));
    // Issue 13, 8: nothing pending still gets one id that is among the address's sign-in ids (a
    // real person's newest key, else the first decoy), so the answer tells no one apart.
    const newest = keys[keys.length - 1];
    const fallback = newest ? { id: newest.credentialId, transports: newest.transports } : this.decoyCredentials(email)[0];
    const allow = pending.length > 0 ? pending.map((c) => ({ id: c.credentialId, transports: c.transports })) : fallback ? [fallback] : [];
    const options = await buildAuthenticationOptions({ rpId: this.config.rpId, allowCredentials: allow });
    await this.storeChallenge(options.challenge, 'activation', flowId, identity?.id ?? null, null);
    return { options };
  }

  /**
   * Activates an issued key, or reactivates a suspended one, when the holder proves possession
   * (a user-verified assertion) AND presents the second-channel code. Both are evidence the
   * lifecycle table demands for these rows.
   */
  async completeActivation(
    codeInput: string,
    flowId: string,
    response: AuthenticationResponseJSON,
    browserIdentityId: string | null = null,
  ): Promise<IssuedSession> {
    const challenge = await this.takeChallenge(response.response.clientDataJSON, { ceremony: 'activation', flowId }, null);
    const key = this.store.getCredentialByCredentialId(response.id);
    if (!key || challenge.identityId === null || key.identityId !== challenge.identityId) {
      this.refuse('activation.refused', key?.id ?? null, { reason: key ? 'key-of-another-identity' : 'unknown-credential' });
      throw new ActivationError('ACTIVATION_NOT_PENDING', 'This security key is not waiting for activation.');
    }
    const enrolment = key.enrolmentId ? this.store.getEnrolment(key.enrolmentId) : undefined;
    if (browserIdentityId !== null && browserIdentityId !== key.identityId && enrolment?.createdBy === browserIdentityId) {
      // Segregation of duties: whoever issued the enrolment cannot activate it for the holder.
      this.refuse('activation.refused', key.id, { reason: 'activated-by-enrolment-issuer', by: browserIdentityId });
      throw new SegregationError('The person who issued this enrolment cannot activate it on the holder’s behalf.');
    }
    const action: LifecycleAction = key.state === 'issued' ? 'activate' : 'reactivate';
    const codeRecord = this.store.latestOpenCode(key.id);
    if ((key.state !== 'issued' && key.state !== 'suspended') || !codeRecord) {
      this.refuse('activation.refused', key.id, { reason: 'not-pending', state: key.state });
      throw new ActivationError('ACTIVATION_NOT_PENDING', 'This security key is not waiting for activation.');
    }
    // The table's guards first, so a key suspected cloned is never offered reactivation.
    decideTransition(key, {
      action,
      role: 'holder',
      reason: action === 'activate' ? 'activated' : 'found',
      evidence: ['possession', 'second-channel-code'],
    });
    if (codeRecord.lockedAt) {
      this.refuse('activation.refused', key.id, { reason: 'code-locked', codeId: codeRecord.id });
      throw new ActivationError('ACTIVATION_CODE_LOCKED', 'Too many wrong codes: this code is locked. Ask the helpdesk for a new one.');
    }
    if (codeRecord.expiresAt <= this.now()) {
      this.refuse('activation.refused', key.id, { reason: 'code-expired', codeId: codeRecord.id });
      throw new ActivationError('ACTIVATION_CODE_INVALID', 'This activation code has expired. Ask the helpdesk for a new one.');
    }
    let assertion;
    try {
      assertion = await verifyAssertion(response, this.expected(challenge), key);
    } catch (err) {
      this.refuse('activation.refused', key.id, { reason: 'possession-not-proven', detail: detailOf(err) });
      throw err;
    }
    const changed = backupEligibilityChange(key.backupEligible, assertion);
    if (changed) {
      // Issue 13, 6: not the key registered (or now synced); refused before a code attempt is spent.
      this.refuse('activation.refused', key.id, changed);
      throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.');
    }
    const presented = keyedHash(this.key, `activation:${codeRecord.id}`, normaliseCode(codeInput));
    const holderActor: Actor = { identityId: key.identityId, role: 'holder' };
    type Refusal = { refused: 'wrong-code'; attempts: number; locked: boolean } | { refused: 'locked' | 'used' | 'expired' | 'counter-not-increasing' };
    const outcome = await this.txAsync((): IssuedSession | Refusal => {
      const at = this.now();
      // Issue 13, 3: the attempt is counted BEFORE the code is compared, in the transaction that
      // decides it, so parallel guesses cannot all read "attempts left" (at most 5 are evaluated).
      // A refusal returns (not throws) so that the count and its audit event commit.
      const attempt = this.store.countCodeAttempt(codeRecord.id, MAX_CODE_ATTEMPTS, at);
      if (!attempt.counted) {
        const reason = attempt.why === 'locked' ? 'code-locked' : attempt.why === 'used' ? 'code-already-used' : 'code-expired';
        this.audit('activation.refused', SYSTEM_ACTOR, key.id, { reason, codeId: codeRecord.id });
        return { refused: attempt.why };
      }
      if (!hashesEqual(presented, attempt.codeHash)) {
        const locked = attempt.attempts >= MAX_CODE_ATTEMPTS;
        if (locked) this.store.lockCode(codeRecord.id, at);
        this.audit('activation.refused', holderActor, key.id, { reason: 'wrong-code', codeId: codeRecord.id, attempts: attempt.attempts, locked });
        return { refused: 'wrong-code', attempts: attempt.attempts, locked };
      }
      const stored = this.mustGetCredential(key.id).signCount;
      if (counterWentBackwards(stored, assertion.newCounter)) {
        // A copy of the key presented itself before activation: it was duplicated in transport
        // (NSIS 3.2.2 (High) 3), so it is revoked on the issuer's own initiative (3.2.3 (Low) 4).
        this.audit('activation.refused', SYSTEM_ACTOR, key.id, { reason: 'counter-not-increasing', stored, presented: assertion.newCounter });
        this.applyTransition(SYSTEM_ACTOR, key.id, 'revoke', 'suspected-clone', `counter ${assertion.newCounter} <= ${stored} during activation`);
        this.alertHelpdeskOfClone(key.id);
        return { refused: 'counter-not-increasing' };
      }
      if (!this.store.consumeActivationCode(codeRecord.id, at)) {
        this.audit('activation.refused', holderActor, key.id, { reason: 'code-already-used', codeId: codeRecord.id });
        return { refused: 'used' };
      }
      this.store.setSignCount(key.id, assertion.newCounter, assertion.backedUp, at);
      const updated = this.applyTransition(holderActor, key.id, action, action === 'activate' ? 'activated' : 'found', null, [
        'possession',
        'second-channel-code',
      ]);
      const identity = this.store.getIdentity(key.identityId);
      if (!identity || identity.bindingState !== 'active') throw new ForbiddenError('BINDING_ENDED', 'Your binding to the organisation has ended.');
      // NSIS 3.2.4: a replacement key, once active, retires the key it replaces.
      const replaced = action === 'activate' && enrolment?.replacesCredentialId ? this.store.getCredential(enrolment.replacesCredentialId) : undefined;
      if (replaced && replaced.state !== 'revoked' && replaced.state !== 'expired') {
        this.applyTransition(SYSTEM_ACTOR, replaced.id, 'revoke', 'replaced', `replaced by ${updated.id}`);
      }
      const sessionId = this.createSession(identity, updated, 'activation', assertion.userVerified);
      return { sessionId, identity, credential: updated };
    });
    this.flushEndedSessions();
    this.outbox.kick();
    if ('refused' in outcome) {
      switch (outcome.refused) {
        case 'wrong-code':
          if (outcome.locked) throw new ActivationError('ACTIVATION_CODE_LOCKED', 'Too many wrong codes: this code is now locked. Ask the helpdesk for a new one.');
          throw new ActivationError('ACTIVATION_CODE_INVALID', `The activation code is not correct. ${MAX_CODE_ATTEMPTS - outcome.attempts} attempt(s) left.`);
        case 'locked':
          throw new ActivationError('ACTIVATION_CODE_LOCKED', 'Too many wrong codes: this code is locked. Ask the helpdesk for a new one.');
        case 'expired':
          throw new ActivationError('ACTIVATION_CODE_INVALID', 'This activation code has expired. Ask the helpdesk for a new one.');
        case 'used':
          throw new ActivationError('ACTIVATION_CODE_INVALID', 'This activation code has already been used or replaced.');
        case 'counter-not-increasing':
          throw new CeremonyError('CEREMONY_FAILED', 'The security key response could not be verified.');
      }
    }
    return outcome;
  }

  // --- sign-in (NSIS 3.3) -------------------------------------------------------------------

  async beginSignIn(email: string | undefined, flowId: string): Promise<{ options: PublicKeyCredentialRequestOptionsJSON }> {
    let allow: { id: string; transports: string[] }[] = [];
    let identityId: string | null = null;
    if (email !== undefined) {
      const identity = this.store.findActiveIdentityByEmail(email);
      identityId = identity?.id ?? null;
      // Every key, whatever its state: the options must not reveal which keys are usable, and an
      // attempt with a suspended or revoked key reaches us and is audited with its exact reason.
      const keys = identity ? this.store.listCredentialsOfIdentity(identity.id) : [];
      allow = keys.length > 0 ? keys.map((c) => ({ id: c.credentialId, transports: c.transports })) : this.decoyCredentials(email);
    }
    const options = await buildAuthenticationOptions({ rpId: this.config.rpId, allowCredentials: allow });
    await this.storeChallenge(options.challenge, 'signin', flowId, identityId, null);
    return { options };
  }

  /**
   * Verifies a sign-in. Refusals are generic to the client; the exact reason goes to the audit
   * log. A counter that does not increase suspends the key on the issuer's own initiative.
   */
  async completeSignIn(flowId: string, response: AuthenticationResponseJSON): Promise<IssuedSession> {
    // The challenge is read here and consumed in the transaction that completes the sign-in (one
    // durable commit per sign-in, not two); every refusal on the way consumes it with its audit
    // event, so it is single use whatever happens (NSIS 3.3.1 (Low) 3).
    let challenge: ChallengeRecord;
    try {
      challenge = this.openChallenge(response.response.clientDataJSON, { ceremony: 'signin', flowId });
    } catch {
      throw new SignInFailedError();
    }
    const burn = challenge.challenge;
    const key = this.store.getCredentialByCredentialId(response.id);
    if (!key) {
      this.refuse('signin.refused', null, { reason: 'unknown-credential' }, burn);
      throw new SignInFailedError();
    }
    if (challenge.identityId !== null && challenge.identityId !== key.identityId) {
      this.refuse('signin.refused', key.id, { reason: 'key-of-another-identity' }, burn);
      throw new SignInFailedError();
    }
    this.expireIfDue(key);
    let assertion;
    try {
      assertion = await verifyAssertion(response, this.expected(challenge), key);
    } catch (err) {
      this.refuse('signin.refused', key.id, { reason: 'assertion-not-verified', detail: detailOf(err) }, burn);
      throw new SignInFailedError();
    }
    const changed = backupEligibilityChange(key.backupEligible, assertion);
    if (changed) {
      // Issue 13, 6: a key registered device-bound (and rated for it) never signs in as a synced one.
      this.refuse('signin.refused', key.id, changed, burn);
      throw new SignInFailedError();
    }
    const outcome = await this.txAsync((): IssuedSession | { refused: string } => {
      // Single use: of two responses to one challenge, only the first to commit goes on.
      if (!this.store.consumeChallenge(burn, this.now())) return { refused: 'challenge-unknown-or-used' };
      // Re-read inside the transaction: a suspension committed while we verified wins.
      const current = this.mustGetCredential(key.id);
      const identity = this.store.getIdentity(current.identityId);
      if (current.state !== 'active') return { refused: `key-${current.state}` };
      if (!identity || identity.bindingState !== 'active') return { refused: 'binding-ended' };
      if (counterWentBackwards(current.signCount, assertion.newCounter)) {
        // NSIS 3.2.3 (Low) 4: the issuer acts on its own initiative on suspected compromise.
        this.applyTransition(SYSTEM_ACTOR, current.id, 'suspend', 'suspected-clone', `counter ${assertion.newCounter} <= ${current.signCount}`);
        this.alertHelpdeskOfClone(current.id);
        return { refused: 'counter-not-increasing' };
      }
      if (!this.store.recordUse(current.id, current.signCount, assertion.newCounter, assertion.backedUp, this.now())) {
        return { refused: 'concurrent-use' };
      }
      const updated = this.mustGetCredential(current.id);
      const sessionId = this.createSession(identity, updated, 'signin', assertion.userVerified);
      return { sessionId, identity, credential: updated };
    });
    this.flushEndedSessions();
    if ('refused' in outcome) {
      this.refuse('signin.refused', key.id, { reason: outcome.refused });
      this.outbox.kick();
      throw new SignInFailedError();
    }
    return outcome;
  }

  /** Inside a transaction: every helpdesk member learns of a suspected copy of a key. */
  private alertHelpdeskOfClone(credentialId: string): void {
    const key = this.mustGetCredential(credentialId);
    const holder = this.store.getIdentity(key.identityId);
    if (!holder) return;
    for (const helpdesk of this.store.listActiveIdentitiesWithRole('helpdesk')) {
      this.queueMail(cloneAlertMail(helpdesk, holder, key, this.now(), this.config.timeZone));
    }
  }

  // --- sessions ------------------------------------------------------------------------------

  /** Inside a transaction: a fresh session id at every sign-in (NSIS 6 (Low) 6: no fixation). */
  private createSession(identity: Identity, key: Credential, via: string, userVerified: boolean): string {
    const sessionId = randomToken(32);
    const at = this.clock.now();
    const aal = authenticatorLevel({ userVerified, backupEligible: key.backupEligible, keyLevel: key.aal });
    const amr = amrFor({ userVerified });
    this.store.insertSession({
      idHash: plainHash(sessionId),
      identityId: identity.id,
      credentialId: key.id,
      aal,
      amr,
      sid: randomToken(16),
      createdAt: at.toISOString(),
      lastSeenAt: at.toISOString(),
      absoluteExpiresAt: addMinutes(at, this.config.sessionAbsoluteMinutes).toISOString(),
    });
    this.audit('signin.succeeded', { identityId: identity.id, role: 'holder' }, key.id, {
      identityId: identity.id,
      via,
      aal,
      amr,
      session: plainHash(sessionId).slice(0, 16),
    });
    return sessionId;
  }

  /** Resolves a session cookie; ends sessions past their idle or absolute lifetime. */
  resolveSession(sessionId: string): SessionView | undefined {
    return this.resolveSessionByHash(plainHash(sessionId));
  }

  /** The same, from the stored hash (for grants bound to a session, e.g. OIDC codes). */
  resolveSessionByHash(idHash: string): SessionView | undefined {
    const session = this.store.getSession(idHash);
    if (!session || session.endedAt) return undefined;
    const now = this.clock.now();
    const idleLimit = addMinutes(new Date(session.lastSeenAt), this.config.sessionIdleMinutes);
    if (now >= idleLimit || now.toISOString() >= session.absoluteExpiresAt) {
      this.store.endSession(idHash, now >= idleLimit ? 'idle-timeout' : 'absolute-timeout', now.toISOString());
      return undefined;
    }
    const identity = this.store.getIdentity(session.identityId);
    const credential = this.store.getCredential(session.credentialId);
    if (!identity || identity.bindingState !== 'active' || !credential || credential.state !== 'active') {
      this.store.endSession(idHash, 'key-or-binding-not-active', now.toISOString());
      return undefined;
    }
    if (now.getTime() - new Date(session.lastSeenAt).getTime() > 15_000) this.store.touchSession(idHash, now.toISOString());
    return { identity, session, credential };
  }

  /** Ends every live session of a person (single logout). */
  endAllSessions(identityId: string, reason: string): number {
    return this.tx(() => {
      const n = this.store.endSessionsOfIdentity(identityId, reason, this.now());
      this.audit('session.ended', { identityId, role: 'holder' }, identityId, { reason, sessions: n, clause: 'NSIS 6 (Low) 5' });
      return n;
    });
  }

  async signOut(sessionId: string, reason = 'signed-out'): Promise<void> {
    const idHash = plainHash(sessionId);
    const session = this.store.getSession(idHash);
    if (!session) return;
    await this.txAsync(() => {
      if (this.store.endSession(idHash, reason, this.now())) {
        this.audit('session.ended', { identityId: session.identityId, role: 'holder' }, session.identityId, { reason });
      }
    });
  }

  // --- lifecycle actions --------------------------------------------------------------------

  /**
   * Takes one lifecycle action on a key in its own transaction, after checking that the actor
   * really has the role it acts in.
   */
  transition(
    actor: Actor,
    credentialId: string,
    action: LifecycleAction,
    reason: ReasonCode,
    note: string | null,
    opts: { approved?: boolean } = {},
  ): Credential {
    const before = this.store.getCredential(credentialId);
    if (!before) throw new NotFoundError('Unknown security key.');
    this.checkActorRole(actor, before);
    if (action === 'request-reactivation' && actor.role !== 'holder' && this.addressSetUpAloneBy(before.identityId, actor.identityId)) {
      // NSIS 3.2.2 (High) 3: the code goes to the bound address, never one this staff member set alone.
      this.refuse('staff-action.refused', before.id, { reason: 'address-set-up-alone-by-requester', by: actor.identityId });
      throw new SegregationError('You changed this person’s email address without a second person’s approval, so you cannot send them a code; ask a colleague.');
    }
    const result = this.tx((): Credential | StaffCapReached => {
      // An action a second person approved is authorised by that approval, not the hourly cap.
      // Issue 13, 4: the cap is checked and counted in this transaction (BEGIN IMMEDIATE
      // serialises every worker's writers), so parallel actions cannot all read "one left".
      const capped = opts.approved ? undefined : this.staffCapReached(actor, action);
      if (capped) return capped;
      const key = this.store.getCredential(credentialId);
      if (!key) throw new NotFoundError('Unknown security key.');
      if (action === 'request-reactivation') return this.requestReactivationInTx(actor, key, reason, note);
      return this.applyTransition(actor, credentialId, action, reason, note);
    });
    if ('capReached' in result) {
      this.log.info({ event: 'staff-action.rate-limited', subjectId: actor.identityId, reason: 'hourly-cap' }, 'refused');
      throw new RateLimitedError(
        `You have taken ${result.inLastHour} suspensions or revocations in the last hour, the most allowed. For more, use a bulk action approved by a colleague.`,
        result.retryAfterSeconds,
      );
    }
    this.flushEndedSessions();
    this.outbox.kick();
    return result;
  }

  private checkActorRole(actor: Actor, key: Credential): void {
    if (actor.role === 'system') throw new TypeError('system transitions are internal');
    if (actor.identityId === null) throw new TypeError('a person acting needs an identity id');
    if (actor.role === 'holder') {
      if (key.identityId !== actor.identityId) throw new NotFoundError('Unknown security key.');
      return;
    }
    this.requireRole(actor.identityId, actor.role);
    // Segregation of duties: staff powers never apply to one's own keys.
    if (key.identityId === actor.identityId) {
      throw new SegregationError('Staff powers do not apply to your own keys; use "My keys" or ask a colleague.');
    }
  }

  /**
   * NSIS 3.2.3 (Low) 2: protection against undue suspension or revocation: each operator may take
   * a bounded number of such actions an hour, counted from the durable state history. Inside the
   * transaction that would take the action: the refusal is audited there and returned.
   */
  private staffCapReached(actor: Actor, action: LifecycleAction): StaffCapReached | undefined {
    if (actor.role === 'holder' || actor.role === 'system' || actor.identityId === null) return undefined;
    if (action !== 'suspend' && action !== 'revoke') return undefined;
    const now = this.clock.now();
    const times = this.store.staffActionTimesSince(actor.identityId, new Date(now.getTime() - 3600_000).toISOString());
    if (times.length < this.config.helpdeskActionsPerHour) return undefined;
    const oldest = new Date(times[0] ?? now.toISOString());
    this.audit('staff-action.rate-limited', SYSTEM_ACTOR, actor.identityId, { action, inLastHour: times.length });
    return { capReached: true, inLastHour: times.length, retryAfterSeconds: (oldest.getTime() + 3600_000 - now.getTime()) / 1000 };
  }

  private requestReactivationInTx(actor: Actor, key: Credential, reason: ReasonCode, note: string | null): Credential {
    const row = decideTransition(key, { action: 'request-reactivation', role: actor.role, reason });
    const holder = this.store.getIdentity(key.identityId);
    if (!holder || holder.bindingState !== 'active') throw new ForbiddenError('BINDING_ENDED', 'The holder is no longer bound to the organisation.');
    const at = this.clock.now();
    this.recordTransition(actor, key, row, reason, note, at.toISOString(), 'credential.reactivation-requested');
    // The holder gets the code through the second channel; the staff member never sees it.
    const purpose = key.state === 'issued' ? 'activate' : 'reactivate';
    this.issueCode(key, holder, addMinutes(at, this.config.activationCodeTtlMinutes).toISOString(), purpose, actor);
    return this.mustGetCredential(key.id);
  }

  /**
   * Applies a row of the lifecycle table. Must run inside a transaction: the guarded UPDATE, the
   * state-history row, the audit event, ended sessions and the holder's notification commit
   * together or not at all.
   */
  private applyTransition(
    actor: Actor,
    credentialId: string,
    action: LifecycleAction,
    reason: ReasonCode,
    note: string | null,
    evidence: readonly Evidence[] = [],
  ): Credential {
    const key = this.mustGetCredential(credentialId);
    const row: TransitionRow = decideTransition(key, { action, role: actor.role, reason, evidence });
    const at = this.now();
    if (!this.store.setCredentialState(key.id, key.state, row.to, reason, at)) {
      throw new LifecycleError('LIFECYCLE_CONFLICT', 'The key changed state at the same moment; reload and try again.');
    }
    this.recordTransition(actor, key, row, reason, note, at, `credential.${action}`);
    if (row.to === 'suspended' || row.to === 'revoked' || row.to === 'expired') {
      // NSIS 3.2.3 (Low) 1: effective at once, including sessions established with the key.
      this.endedInTransaction.push(...this.store.liveSessionsOfCredential(key.id));
      this.store.endSessionsOfCredential(key.id, `key-${row.to}`, at);
      this.store.supersedeOpenCodes(key.id, at);
    }
    const updated = this.mustGetCredential(key.id);
    if (row.to === 'suspended' || row.to === 'revoked' || action === 'activate' || action === 'reactivate') {
      const holder = this.store.getIdentity(key.identityId);
      const actorIdentity = actor.identityId ? this.store.getIdentity(actor.identityId) : undefined;
      if (holder) {
        const head = this.store.auditHead();
        this.queueMail(
          transitionMail(holder, updated, {
            action,
            to: row.to,
            reason,
            note,
            at,
            actorName: actorIdentity?.name ?? null,
            actorRole: actor.role,
            receipt: `audit #${head.seq} ${head.hash.slice(0, 16)}`,
          }, this.config.timeZone),
        );
      }
    }
    return updated;
  }

  /** Inside a transaction: the audit event and the state-history row of one table row taken. */
  private recordTransition(actor: Actor, key: Credential, row: TransitionRow, reason: ReasonCode, note: string | null, at: string, auditType: string): void {
    const seq = this.audit(auditType, actor, key.id, { identityId: key.identityId, from: key.state, to: row.to, reason, note, clause: row.clause });
    if (this.onEvent) this.observedInTransaction.push({ kind: 'transition', action: row.action, from: key.state, to: row.to });
    this.store.insertCredentialEvent({
      credentialId: key.id,
      action: row.action,
      fromState: key.state,
      toState: row.to,
      actorId: actor.identityId,
      actorRole: actor.role,
      reason,
      note,
      clause: row.clause,
      at,
      auditSeq: seq,
    });
  }

  /**
   * Ends an employee's binding (NSIS 5.2 (Low) 3): every key revoked, every session ended, the
   * person notified, all in one transaction. The record is kept for the audit trail.
   */
  endBinding(actor: Actor, identityId: string, reason: ReasonCode, note: string | null): { revokedKeys: number } {
    if (actor.identityId === null || actor.role !== 'org-admin') throw new TypeError('endBinding is an org-admin action');
    if (actor.identityId === identityId) throw new SegregationError('You cannot end your own binding; ask another administrator.');
    const result = this.tx(() => {
      this.requireRole(actor.identityId ?? '', 'org-admin');
      const identity = this.store.getIdentity(identityId);
      if (!identity) throw new NotFoundError('Unknown identity.');
      const at = this.now();
      if (!this.store.endBinding(identityId, at)) {
        throw new GatewayError('CONFLICT', 409, 'This binding has already ended.');
      }
      let revoked = 0;
      for (const key of this.store.listCredentialsOfIdentity(identityId)) {
        if (key.state === 'revoked' || key.state === 'expired') continue;
        this.applyTransition(actor, key.id, 'revoke', reason, note);
        revoked++;
      }
      this.store.supersedeOpenEnrolments(identityId, at);
      // Duties table, binding-end: their pending requests, and requests about them, are withdrawn.
      withdrawPendingRequests(this.store, at, actor, identityId, { binding: 'ended' });
      this.endedInTransaction.push(...this.store.liveSessionsOfIdentity(identityId));
      const ended = this.store.endSessionsOfIdentity(identityId, 'binding-ended', at);
      this.audit('binding.ended', actor, identityId, { reason, note, revokedKeys: revoked, sessionsEnded: ended, clause: 'NSIS 5.2 (Low) 3' });
      const org = this.store.getOrganisation(identity.organisationId);
      this.queueMail(bindingEndedMail(identity, org?.name ?? 'the organisation', at, revoked, this.config.timeZone));
      return { revokedKeys: revoked };
    });
    this.flushEndedSessions();
    this.outbox.kick();
    return result;
  }

  /**
   * NSIS 3.2.3 (Low) 4: the FIDO metadata reports a model compromised. Every live key of that
   * model is taken out of use on the issuer's own initiative (active keys suspended, keys not yet
   * activated revoked), owners are notified, and the helpdesk is alerted.
   */
  takeModelOutOfUse(aaguid: string, status: string): { suspended: string[]; revoked: string[] } {
    const suspended: string[] = [];
    const revoked: string[] = [];
    this.tx(() => {
      for (const key of this.store.listLiveCredentialsByAaguid(aaguid)) {
        const note = `FIDO metadata status ${status} for model ${aaguid}`;
        if (key.state === 'active') {
          this.applyTransition(SYSTEM_ACTOR, key.id, 'suspend', 'suspected-compromise', note);
          suspended.push(key.id);
        } else if (key.state === 'issued') {
          this.applyTransition(SYSTEM_ACTOR, key.id, 'revoke', 'suspected-compromise', note);
          revoked.push(key.id);
        }
      }
      this.audit('metadata.model-compromised', SYSTEM_ACTOR, aaguid, { status, suspended, revoked, clause: 'NSIS 3.2.3 (Low) 4' });
      if (suspended.length + revoked.length > 0) {
        for (const helpdesk of this.store.listActiveIdentitiesWithRole('helpdesk')) {
          this.queueMail(compromiseAlertMail(helpdesk, aaguid, status, suspended.length, revoked.length));
        }
      }
    });
    this.flushEndedSessions();
    this.outbox.kick();
    return { suspended, revoked };
  }

  /** Expires keys whose expiry date has passed (run at start and periodically). */
  expireDueKeys(): number {
    let n = 0;
    for (const key of this.store.listCredentialsDueToExpire(this.now())) {
      if (this.expireIfDue(key)) n++;
    }
    return n;
  }

  private expireIfDue(key: Credential): boolean {
    if (!key.expiresAt || key.expiresAt > this.now() || key.state === 'revoked' || key.state === 'expired') return false;
    try {
      this.tx(() => this.applyTransition(SYSTEM_ACTOR, key.id, 'expire', 'expired', null));
      this.flushEndedSessions();
      return true;
    } catch (err) {
      if (err instanceof LifecycleError && err.code === 'LIFECYCLE_CONFLICT') return false;
      throw err;
    }
  }

  // --- the holder's own keys ----------------------------------------------------------------

  listKeys(identityId: string): Credential[] {
    return this.store.listCredentialsOfIdentity(identityId);
  }

  ownKey(identityId: string, credentialId: string): Credential {
    const key = this.store.getCredential(credentialId);
    if (!key || key.identityId !== identityId) throw new NotFoundError('Unknown security key.');
    return key;
  }

  renameKey(actor: Actor, credentialId: string, label: string): Credential {
    return this.tx(() => {
      const key = this.store.getCredential(credentialId);
      if (!key || key.identityId !== actor.identityId) throw new NotFoundError('Unknown security key.');
      const clean = cleanLabel(label);
      if (!this.store.renameCredential(key.id, clean, this.now())) {
        throw new LifecycleError('LIFECYCLE_TRANSITION_REFUSED', `A key that is ${key.state} cannot be renamed.`);
      }
      this.audit('credential.renamed', actor, key.id, { from: key.label, to: clean });
      return this.mustGetCredential(key.id);
    });
  }

  history(credentialId: string) {
    return this.store.listCredentialEvents(credentialId);
  }

  // --- helpers -------------------------------------------------------------------------------

  private async storeChallenge(challenge: string, ceremony: Ceremony, flowId: string, identityId: string | null, enrolmentId: string | null): Promise<void> {
    const at = this.clock.now();
    await this.txAsync(() => this.store.insertChallenge({
      challenge,
      flowHash: plainHash(flowId),
      ceremony,
      identityId,
      enrolmentId,
      createdAt: at.toISOString(),
      // NSIS 3.3.1 (Low) 3: challenges expire within 2 minutes.
      expiresAt: addSeconds(at, this.config.challengeTtlSeconds).toISOString(),
    }));
  }

  /**
   * Reads the challenge named in clientDataJSON and checks that it is outstanding, belongs to this
   * ceremony and browser flow, and has not expired (NSIS 3.3.1 (Low) 3), without consuming it:
   * the caller consumes it in the transaction that completes the ceremony. A refusal here
   * consumes it with the refusal's audit event.
   */
  private openChallenge(clientDataJSON: string, check: ChallengeCheck): ChallengeRecord {
    const value = challengeOf(clientDataJSON);
    const refusal = `${check.ceremony === 'registration' ? 'enrolment' : check.ceremony}.refused`;
    if (!value) {
      this.refuse(refusal, null, { reason: 'no-challenge' });
      throw new CeremonyError('CHALLENGE_INVALID', 'The response carries no challenge. Start again.');
    }
    const record = this.store.getOpenChallenge(value);
    if (!record) {
      this.refuse(refusal, null, { reason: 'challenge-unknown-or-used' });
      throw new CeremonyError('CHALLENGE_INVALID', 'This challenge is unknown or was already used. Start again.');
    }
    if (record.ceremony !== check.ceremony || !hashesEqual(record.flowHash, plainHash(check.flowId))) {
      this.refuse(refusal, null, { reason: 'challenge-for-other-ceremony-or-browser' }, value);
      throw new CeremonyError('CHALLENGE_INVALID', 'This challenge was issued for another ceremony or browser. Start again.');
    }
    if (record.expiresAt <= this.now()) {
      this.refuse(refusal, null, { reason: 'challenge-expired' }, value);
      throw new CeremonyError('CHALLENGE_INVALID', CHALLENGE_EXPIRED);
    }
    return record;
  }

  /**
   * Consumes the challenge named in clientDataJSON exactly once and checks that it belongs to
   * this ceremony and this browser flow and has not expired (NSIS 3.3.1 (Low) 3).
   */
  private async takeChallenge(clientDataJSON: string, check: ChallengeCheck, subjectId: string | null): Promise<ChallengeRecord> {
    const value = challengeOf(clientDataJSON);
    const refusal = `${check.ceremony === 'registration' ? 'enrolment' : check.ceremony}.refused`;
    if (!value) {
      this.refuse(refusal, subjectId, { reason: 'no-challenge' });
      throw new CeremonyError('CHALLENGE_INVALID', 'The response carries no challenge. Start again.');
    }
    const now = this.now();
    const record = await this.txAsync(() => this.store.consumeChallenge(value, now));
    if (!record) {
      this.refuse(refusal, subjectId, { reason: 'challenge-unknown-or-used' });
      throw new CeremonyError('CHALLENGE_INVALID', 'This challenge is unknown or was already used. Start again.');
    }
    if (record.ceremony !== check.ceremony || !hashesEqual(record.flowHash, plainHash(check.flowId))) {
      this.refuse(refusal, subjectId, { reason: 'challenge-for-other-ceremony-or-browser' });
      throw new CeremonyError('CHALLENGE_INVALID', 'This challenge was issued for another ceremony or browser. Start again.');
    }
    if (record.expiresAt <= this.now()) {
      this.refuse(refusal, subjectId, { reason: 'challenge-expired' });
      throw new CeremonyError('CHALLENGE_INVALID', CHALLENGE_EXPIRED);
    }
    return record;
  }

  private expected(challenge: ChallengeRecord) {
    return { challenge: challenge.challenge, origin: this.config.origin, rpId: this.config.rpId };
  }

  private population: { surveyedAt: number; value: KeyPopulation } | undefined;

  /**
   * Decoy credentials for an address without keys (issue 13, 8), shaped like the organisation's
   * real keys (count, id length, transports; decoys.ts). The key population is surveyed at most
   * every POPULATION_SURVEY_MS, so a decoy stays the same while the population keeps its shape.
   */
  private decoyCredentials(email: string): DecoyCredential[] {
    const now = this.clock.now().getTime();
    if (!this.population || now - this.population.surveyedAt >= POPULATION_SURVEY_MS || now < this.population.surveyedAt) {
      this.population = { surveyedAt: now, value: this.store.keyPopulation() };
    }
    return decoyCredentials(this.key, normaliseEmail(email), this.population.value);
  }

  private mustGetCredential(id: string): Credential {
    const key = this.store.getCredential(id);
    if (!key) throw new NotFoundError('Unknown security key.');
    return key;
  }

  private queueMail(mail: Mail): void {
    queueMail(this.store, mail, this.now());
  }

  private audit(type: string, actor: Actor, subjectId: string | null, data: { [key: string]: JsonValue }): number {
    this.observe(type, data);
    return this.store.appendAudit({ at: this.now(), type, actorId: actor.identityId, actorRole: actor.role, subjectId, data }).seq;
  }

  /** Records a refusal in its own transaction (the refused change itself never happened). */
  private refuse(type: string, subjectId: string | null, data: { [key: string]: JsonValue }, burnChallenge?: string): void {
    this.tx(() => {
      // A challenge read but not yet consumed is used up by the refusal (single use).
      if (burnChallenge !== undefined) this.store.consumeChallenge(burnChallenge, this.now());
      this.audit(type, SYSTEM_ACTOR, subjectId, data);
    });
    this.log.info({ event: type, subjectId, reason: data['reason'] ?? null }, 'refused');
  }
}

function cleanLabel(label: string): string {
  const clean = label.normalize('NFC').replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, LABEL_MAX);
  if (clean.length === 0) throw new ValidationError('The key name must not be empty.', [{ path: 'label', message: 'must not be empty' }]);
  return clean;
}

/** j***@example.dk: enough for the holder to recognise, not enough to harvest addresses. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

function detailOf(err: unknown): string {
  const inner = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return inner instanceof Error ? inner.message.slice(0, 200) : 'unknown';
}
