/**
 * Both cores (issue 7): GATEWAY_WORKERS=2 runs a node:cluster primary with two worker processes
 * sharing the port, the SQLite file and the HSM token. Every guarantee lives in SQLite, so state
 * made through one worker is honoured by the other; a worker that dies is replaced; workers never
 * outlive their primary.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ApiClient, field } from '../support/apiClient.js';
import { disposeChildVarDir, groupPids, startChildGateway, type ChildGateway } from '../support/childGateway.js';
import { activeAdmin, activeEmployee, signIn } from '../support/journeys.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * One GET on a connection of its own: its status, or how it failed. A connection nobody answers
 * within `timeoutMs` is "no answer" (the client would wait for minutes).
 */
function getOnce(origin: string, path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(new URL(path, origin), { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
    });
    req.setTimeout(timeoutMs, () => {
      resolve('no answer');
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** The worker pids: every process of the group but the primary. */
function workers(gw: ChildGateway): number[] {
  return groupPids(gw.pid).filter((p) => p !== gw.pid);
}

describe('cluster: two worker processes behind one port', () => {
  let gw: ChildGateway;
  const varDirs: string[] = [];
  before(async () => {
    gw = await startChildGateway({ env: { GATEWAY_WORKERS: '2' } });
    varDirs.push(gw.varDir);
  });
  after(async () => {
    await gw.kill();
    for (const d of varDirs) await disposeChildVarDir(d);
  });

  it('NSIS 3.3.1: state made through one worker is honoured by every worker; a killed worker is replaced', async () => {
    await waitFor('two workers listening', () => workers(gw).length === 2 && /with 2 worker processes/.test(gw.output()));
    const admin = await activeAdmin(gw);
    const employees = await Promise.all([1, 2, 3, 4].map((i) => activeEmployee(gw, admin.client, `worker-${i}@demo.example`, `Worker ${i}`)));

    // Sign-ins on fresh connections (whichever worker accepts each); every employee signs in with its own key.
    const signInAll = async () => {
      for (const e of employees) {
        const client = new ApiClient(gw.origin);
        // A network failure names its cause and the gateway's last words (a failure seen once
        // in a full PostgreSQL pass, 2026-12-02, not reproduced since: this says where to look).
        const res = await signIn(gw, client, e.auth, e.email).catch((err: unknown) => {
          const cause = err instanceof Error && err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : String(err);
          throw new Error(`sign-in of ${e.email} failed: ${cause}; workers ${JSON.stringify(workers(gw))}; the gateway's output ends:\n${gw.output().slice(-3000)}`, { cause: err });
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
    };
    await signInAll();

    // kill -9 one worker: the other serves on, and the primary starts a replacement.
    const [first, second] = workers(gw);
    assert.ok(first !== undefined && second !== undefined);
    process.kill(first, 'SIGKILL');
    // A request in flight on the killed worker's connection fails (a browser retries); let the
    // client notice the closed keep-alive sockets before the next round.
    await sleep(300);
    await signInAll();
    const replaced = (n: number) => (gw.output().match(/replacement gateway worker listening/g) ?? []).length >= n;
    await waitFor('a replacement worker', () => replaced(1) && workers(gw).length === 2 && !workers(gw).includes(first), 60_000);
    // Now kill the other original: only the replacement is left, and it knows everything.
    process.kill(second, 'SIGKILL');
    await sleep(300);
    await signInAll();
    await waitFor('a second replacement', () => replaced(2) && workers(gw).length === 2 && !workers(gw).includes(second), 60_000);

    // A helpdesk suspension committed through whichever worker answers is refused by all.
    const target = employees[0];
    assert.ok(target);
    const suspended = await admin.client.post(`/api/helpdesk/credentials/${target.keyId}/suspend`, { reason: 'lost', note: 'reported by phone' });
    assert.equal(suspended.status, 200, JSON.stringify(suspended.body));
    for (let i = 0; i < 6; i++) {
      const res = await signIn(gw, new ApiClient(gw.origin), target.auth, target.email);
      assert.equal(res.status, 401, JSON.stringify(res.body));
    }
    const health = await fetch(`${gw.origin}/api/health`);
    const report: unknown = await health.json();
    assert.equal(field<string>(report, 'status'), 'ok', `health ${JSON.stringify(report)}; the gateway's output ends:\n${gw.output().slice(-4000)}`);
  });

  it('NSIS 4.1.6: a worker killed while connections arrive: every connection is answered, none is left waiting in the primary', async () => {
    // Node's round robin (the default) handed connections to a worker that had just died and kept
    // them open, unanswered, for ever (seen as a sign-in that hung for 5 minutes). Ten rounds of
    // a kill followed at once by 20 new connections: with round robin some went unanswered in
    // most runs; with the shared socket the other worker accepts every one.
    const replacements = () => (gw.output().match(/replacement gateway worker listening/g) ?? []).length;
    const before = replacements();
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 10; round++) {
      await waitFor('two workers listening', () => workers(gw).length === 2 && replacements() >= before + round);
      const [victim] = workers(gw);
      assert.ok(victim !== undefined);
      process.kill(victim, 'SIGKILL');
      const answers = await Promise.all(Array.from({ length: 20 }, () => getOnce(gw.origin, '/health/live', 10_000)));
      for (const a of answers) outcomes.set(a, (outcomes.get(a) ?? 0) + 1);
    }
    await waitFor('two workers listening', () => workers(gw).length === 2 && replacements() >= before + 10);
    // A connection the killed worker had accepted in its last microseconds is reset: the client
    // hears of it (and may retry). None may go unanswered.
    const seen = Object.fromEntries(outcomes);
    const why = `answers to 200 connections made right after a worker was killed: ${JSON.stringify(seen)}; the gateway's output ends:\n${gw.output().slice(-3000)}`;
    assert.equal(outcomes.get('no answer'), undefined, why);
    assert.deepEqual([...outcomes.keys()].filter((a) => a !== '200' && a !== 'ECONNRESET'), [], why);
    assert.ok((outcomes.get('200') ?? 0) >= 190, why);
  });

  it('workers never outlive their primary: kill -9 of the primary alone takes them down', async () => {
    const before = workers(gw);
    assert.equal(before.length, 2);
    process.kill(gw.pid, 'SIGKILL');
    await waitFor('the workers to stop', () => before.every((p) => !groupPids(gw.pid).includes(p)));
    await assert.rejects(fetch(`${gw.origin}/api/health`));
  });

  it('SIGTERM stops the primary and every worker cleanly', async () => {
    const again = await startChildGateway({ env: { GATEWAY_WORKERS: '2' } });
    varDirs.push(again.varDir);
    await waitFor('two workers', () => workers(again).length === 2);
    await again.stop();
    await waitFor('every process to exit', () => groupPids(again.pid).length === 0, 15_000);
    assert.doesNotMatch(again.output(), /exited; starting a new one/);
  });
});
