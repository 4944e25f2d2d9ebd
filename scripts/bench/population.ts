/**
 * The people the load is made of.
 *
 * Before the gateway starts, the bench opens the runtime in-process on the run's var dir (no HSM)
 * and binds employees and issues their one-time enrolment links in bulk, as an administrator
 * would through the console (the console's step-up and hourly caps are for people, not for a
 * benchmark's setup). Then, with the gateway running, every sign-in employee enrols and activates
 * a key over the real HTTP API with a software authenticator (real P-256 keys), the activation
 * code read from the file outbox: their keys are ACTIVE the way any employee's are.
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../server/config.js';
import { SYSTEM_ACTOR } from '../../server/domain/types.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime } from '../../server/runtime.js';
import { issueEnrolmentIn, operatorLink } from '../../server/flows/enrolment/issueEnrolment.js';
import { createIdentityIn } from '../../server/flows/identities/createIdentity.js';
import { ensureOrganisation } from '../../server/flows/identities/ensureOrganisation.js';
import { SoftAuthenticator } from '../../test/support/softAuthenticator.js';
import http from 'node:http';
import { BrowserClient } from './browserClient.js';
import { activateCeremony, enrolCeremony } from './ceremonies.js';
import { OutboxReader } from './outboxCodes.js';
import type { BenchCredential } from './protocol.js';
import { repoRoot } from './serverProcess.js';

export interface PreparedPeople {
  /** Employees who will enrol and activate a key, then sign in under load. */
  signIn: { email: string; token: string }[];
  /** One-time links for the enrolment phases, one per ceremony. */
  enrolmentTokens: string[];
}

/** The gateway's configuration for the run's var dir, as the gateway process will read it. */
export function benchConfig(varDir: string, databaseUrl?: string): Readonly<Config> {
  return loadConfig({ GATEWAY_VAR_DIR: varDir, GATEWAY_LOG_LEVEL: 'silent', GATEWAY_SEED_DEMO: 'false', ...(databaseUrl ? { GATEWAY_DATABASE_URL: databaseUrl } : {}) }, repoRoot);
}

/**
 * Binds `signIn` employees and `enrolment` more, each with a fresh one-time link, in batches of
 * one transaction each, with their audit events (the flows' own in-transaction functions).
 */
export async function preparePeople(
  varDir: string,
  counts: { signIn: number; enrolment: number },
  onProgress?: (done: number, total: number) => void,
  databaseUrl?: string,
): Promise<PreparedPeople> {
  const config = benchConfig(varDir, databaseUrl);
  const runtime = await createRuntime(config, { log: createLogger('silent'), withHsm: false });
  try {
    const { flows, store } = runtime;
    const org = await ensureOrganisation(flows, config.demo.orgCvr, config.demo.orgName);
    const total = counts.signIn + counts.enrolment;
    const people: { email: string; token: string }[] = [];
    const batch = 500;
    for (let start = 0; start < total; start += batch) {
      await store.write(async (tx) => {
        for (let i = start; i < Math.min(total, start + batch); i += 1) {
          const email = i < counts.signIn ? `signin-${i}@bench.example` : `enrol-${i - counts.signIn}@bench.example`;
          const identity = await createIdentityIn(flows, tx, SYSTEM_ACTOR, {
            organisationId: org.id,
            name: `Bench Employee ${i}`,
            email,
            ial: 'substantial',
            proofingMethod: 'Benchmark population (scripts/bench)',
            roles: [],
          });
          people.push({ email, token: operatorLink(await issueEnrolmentIn(flows, tx, SYSTEM_ACTOR, identity.id, undefined, 'operator')).token });
        }
      });
      onProgress?.(Math.min(total, start + batch), total);
    }
    return { signIn: people.slice(0, counts.signIn), enrolmentTokens: people.slice(counts.signIn).map((p) => p.token) };
  } finally {
    await runtime.close();
  }
}

export interface EnrolledMember extends BenchCredential {
  /** COSE public key (base64url), for the reference server. */
  publicKeyCose: string;
}

/** Every sign-in employee enrols and activates one key over HTTP; returns the keys (private parts included). */
export async function enrolAndActivate(
  origin: string,
  outboxDir: string,
  people: { email: string; token: string }[],
  concurrency = Math.max(2, os.availableParallelism() * 2),
): Promise<EnrolledMember[]> {
  const outbox = new OutboxReader(outboxDir);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const members: EnrolledMember[] = new Array(people.length);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const index = next;
          next += 1;
          const person = people[index];
          if (!person) return;
          const client = new BrowserClient(origin, agent);
          const auth = new SoftAuthenticator();
          const enrolled = await enrolCeremony(client, auth, person.token, 'Bench key');
          if (!enrolled.ok) throw new Error(`population: enrolment of ${person.email} refused (${enrolled.error})`);
          const code = await outbox.codeFor(person.email);
          const activated = await activateCeremony(client, auth, person.email, code);
          if (!activated.ok) throw new Error(`population: activation of ${person.email} refused (${activated.error})`);
          const [id] = auth.credentialIds();
          if (!id) throw new Error('population: the authenticator holds no key');
          members[index] = {
            email: person.email,
            credential: auth.exportCredential(id),
            publicKeyCose: Buffer.from(auth.publicKeyCose(id)).toString('base64url'),
          };
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return members;
}

export const outboxDirOf = (varDir: string): string => path.join(varDir, 'outbox');
