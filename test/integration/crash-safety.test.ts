/**
 * Crash safety (issue 7, Faults): the real gateway process (`server/main.ts`) is killed with
 * SIGKILL — its whole process group, so every cluster worker too — in the middle of a storm of
 * concurrent sign-ins and lifecycle transitions, several times, at different moments, and
 * restarted on the same var/ each time. After each restart, from the SQLite file alone:
 * no transition without its audit event or the reverse, the audit chain and its signed
 * checkpoints verify, no key is in a state its history does not explain, every step of every
 * history is a row of the lifecycle table, no sign-in succeeded with a key that was not active,
 * and every change a client saw acknowledged survived. And the restarted gateway serves.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ApiClient, field } from '../support/apiClient.js';
import { disposeChildVarDir, startChildGateway, type ChildGateway } from '../support/childGateway.js';
import { checkAcknowledged, checkInvariants } from '../support/invariants.js';
import { signIn } from '../support/journeys.js';
import { buildPopulation, startStorm, STORM_ENV, type Population } from '../support/storm.js';

describe('crash safety: kill -9 in a storm of sign-ins and transitions', () => {
  let gw: ChildGateway | undefined;
  let varDir: string | undefined;
  after(async () => {
    await gw?.kill();
    if (varDir) await disposeChildVarDir(varDir);
  });

  /** Restarts on the same var/ and port, then checks every invariant and that it serves. */
  const restartAndCheck = async (t: { diagnostic(m: string): void }, pop: Population, acked: ReadonlyMap<string, number>, env: Record<string, string>, label: string) => {
    if (!gw) throw new Error('no gateway');
    gw = await startChildGateway({ varDir: gw.varDir, port: gw.port, env: { ...STORM_ENV, ...env } });
    const report = await checkInvariants(gw.storeRef);
    assert.deepEqual(report.violations, [], `${label}: invariants hold after the crash`);
    assert.deepEqual(await checkAcknowledged(gw.storeRef, acked), [], `${label}: every acknowledged change survived`);
    const health = await new ApiClient(gw.origin).get('/api/health');
    assert.equal(health.status, 200);
    assert.equal(field(health.body, 'status'), 'ok');
    // The administrator's key was never touched by the storm: a sign-in must work at once.
    const signed = await signIn(gw, pop.admin.client, pop.admin.auth, pop.admin.email);
    assert.equal(signed.status, 200, `${label}: a sign-in works after the restart`);
    t.diagnostic(`${label}: ${JSON.stringify(report.counts)}`);
    return report;
  };

  it('NSIS 3.2.3, 6 (Low) 7: after kill -9 mid-storm and a restart, every transition has its history and audit event, the chain verifies, every key state is explained, nothing acknowledged is lost', async (t) => {
    gw = await startChildGateway({ env: { ...STORM_ENV } });
    varDir = gw.varDir;
    const pop = await buildPopulation(gw, { people: 8, operators: 2 });
    const acked = new Map<string, number>();
    const merge = (m: ReadonlyMap<string, number>) => {
      for (const [k, n] of m) acked.set(k, (acked.get(k) ?? 0) + n);
    };
    let totalTransitions = 0;
    let totalSignIns = 0;
    let kills = 0;

    // Kill at different depths of the storm: as it starts, in full swing, and late. The last round
    // runs the gateway as a node:cluster of two workers (GATEWAY_WORKERS): the restart before it
    // comes up in that mode, and the kill takes the primary and both workers.
    const cluster: Record<string, string> = { GATEWAY_WORKERS: '2' };
    const rounds: { killAfter: number; env: Record<string, string>; label: string }[] = [
      { killAfter: 3, env: {}, label: 'kill 1 (as the storm starts)' },
      { killAfter: 20, env: {}, label: 'kill 2 (mid-storm)' },
      { killAfter: 40, env: cluster, label: 'kill 3 (late in the storm, 2 cluster workers)' },
    ];

    for (const [i, round] of rounds.entries()) {
      const storm = startStorm(gw, pop, { seed: 7 + i });
      await storm.until(round.killAfter, 30_000);
      await gw.kill();
      kills++;
      const stats = await storm.stop();
      merge(storm.acked);
      assert.ok(storm.transitionCount() >= round.killAfter, `${round.label}: the storm reached ${round.killAfter} transitions (${JSON.stringify(stats)})`);
      totalTransitions += storm.transitionCount();
      totalSignIns += stats.signIns;
      t.diagnostic(`${round.label}: ${JSON.stringify(stats)}`);
      await restartAndCheck(t, pop, acked, (rounds[i + 1] ?? round).env, round.label);
    }
    t.diagnostic(`${kills} kills, ${totalTransitions} acknowledged transitions, ${totalSignIns} sign-ins`);
    assert.ok(totalSignIns > 0);
  });
});
