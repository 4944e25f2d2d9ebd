/**
 * The flows of a key's life (server/flows/) on each adapter of the store port, with a software
 * authenticator: bind a person, enrol a key through the operator's link, activate it with the
 * code minted at delivery, sign in, suspend it; the suspension refuses the very next sign-in, and
 * the audit chain the flows wrote verifies. What the gateway's requests do, minus HTTP: the proof
 * that nothing in the PostgreSQL adapter stops a sign-in.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AssuranceService } from '../../server/assurance/AssuranceService.js';
import { verifyStoreAudit } from '../../server/audit/verifyAudit.js';
import { systemClock } from '../../server/clock.js';
import { loadConfig } from '../../server/config.js';
import { SYSTEM_ACTOR } from '../../server/domain/types.js';
import { SignInFailedError } from '../../server/errors.js';
import { beginActivation } from '../../server/flows/activation/beginActivation.js';
import { completeActivation } from '../../server/flows/activation/completeActivation.js';
import type { CoreDeps } from '../../server/flows/deps.js';
import { mintSecret } from '../../server/flows/delivery/mintSecret.js';
import { beginEnrolment } from '../../server/flows/enrolment/beginEnrolment.js';
import { completeEnrolment } from '../../server/flows/enrolment/completeEnrolment.js';
import { issueOperatorEnrolment } from '../../server/flows/enrolment/issueEnrolment.js';
import { createIdentity } from '../../server/flows/identities/createIdentity.js';
import { ensureOrganisation } from '../../server/flows/identities/ensureOrganisation.js';
import { transition } from '../../server/flows/keys/transition.js';
import { beginSignIn } from '../../server/flows/signin/beginSignIn.js';
import { completeSignIn } from '../../server/flows/signin/completeSignIn.js';
import { createLogger } from '../../server/logger.js';
import type { Store } from '../../server/ports/store.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { ADAPTERS } from '../store/adapters.js';

for (const adapter of ADAPTERS) {
  describe(`the flows of a key's life on the ${adapter.name} adapter`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let dir: string;
    let deps: CoreDeps;
    before(async () => {
      ({ store, dispose } = await adapter.fresh());
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-journey-'));
      const config = loadConfig({}, dir);
      deps = {
        store,
        clock: systemClock,
        config,
        secretKey: randomBytes(32),
        log: createLogger('silent'),
        assurance: new AssuranceService(config.attestation, undefined, systemClock),
        kickOutbox: () => undefined,
        observe: () => undefined,
        sessionsEnded: () => undefined,
        signToken: undefined,
        population: undefined,
      };
    });
    after(async () => {
      await dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('NSIS 3.2.2, 3.3, 3.2.3 (Low) 1: enrol, activate with the mailed code, sign in; a suspension refuses the very next sign-in; the chain verifies', async () => {
      const origin = deps.config.origin;
      const org = await ensureOrganisation(deps, '12345674', 'Journey ApS');
      const person = await createIdentity(deps, SYSTEM_ACTOR, { organisationId: org.id, name: 'Åse Holder', email: 'ase@example.test', ial: 'substantial', proofingMethod: 'ID document checked in person', roles: ['employee'] });
      const { token } = await issueOperatorEnrolment(deps, person.id);
      const authenticator = new SoftAuthenticator();

      const enrolFlow = randomUUID();
      const { options: creation } = await beginEnrolment(deps, { token, flowId: enrolFlow });
      const registration = await authenticator.createCredential({ ...creation, origin });
      const { credential } = await completeEnrolment(deps, { token, flowId: enrolFlow, label: 'My key', response: registration });
      assert.equal(credential.state, 'issued');

      // The activation code goes through the outbox; it is minted at delivery (issue 13, 5).
      const now = new Date();
      const due = await store.write((tx) => tx.outbox.claimDue(now.toISOString(), new Date(now.getTime() + 60_000).toISOString(), 10));
      const ref = due.find((m) => m.secretRef?.startsWith('activation-code:'))?.secretRef;
      assert.ok(ref, 'an activation code mail is queued');
      const code = await mintSecret(deps, ref);
      assert.ok(code);

      const activationFlow = randomUUID();
      const { options: activationOptions } = await beginActivation(deps, { email: person.email, flowId: activationFlow });
      const activated = await completeActivation(deps, { code, flowId: activationFlow, response: await authenticator.getAssertion(activationOptions, origin) });
      assert.equal(activated.credential.state, 'active');

      const signIn = async () => {
        const flowId = randomUUID();
        const { options } = await beginSignIn(deps, { email: person.email, flowId });
        return completeSignIn(deps, { flowId, response: await authenticator.getAssertion(options, origin) });
      };
      const session = await signIn();
      assert.equal(session.identity.id, person.id);
      assert.ok((await store.read((tx) => tx.sessions.liveOfIdentity(person.id))).length >= 1);

      await transition(deps, { identityId: person.id, role: 'holder' }, { credentialId: credential.id, action: 'suspend', reason: 'lost', note: null });
      await assert.rejects(signIn(), SignInFailedError);
      assert.deepEqual(await store.read((tx) => tx.sessions.liveOfIdentity(person.id)), [], 'the suspension ended the sessions');

      const types = (await store.read((tx) => tx.audit.forPerson(person.id))).map((e) => e.type);
      for (const t of ['signin.succeeded', 'signin.refused']) assert.ok(types.includes(t), `${t} is audited`);
      const report = await verifyStoreAudit(store);
      assert.equal(report.chain.ok, true, report.problems.join('; '));
    });
  });
}
