/**
 * The benchmark's explanation of a target that is not met (issue 17: "the table shows exactly
 * which cost remains and why it cannot go"): the CPU budget arithmetic (scripts/bench/budget.ts),
 * the /proc parsing behind PostgreSQL's CPU column (scripts/bench/procCpu.ts), and the phase
 * guard that turns a dead child or a hung phase into an error (scripts/bench/phaseGuard.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { machineShare, queueing, rateBudget } from '../../scripts/bench/budget.js';
import { BrowserClient } from '../../scripts/bench/browserClient.js';
import { COST_REASONS } from '../../scripts/bench/costReasons.js';
import { LineTail, PhaseAborted, bounded } from '../../scripts/bench/phaseGuard.js';
import { parseMachineStat, parseProcStat, treeTicks } from '../../scripts/bench/procCpu.js';
import { parseOptions } from '../../scripts/bench/options.js';

// A 10 s phase: 5,000 sign-ins (4,000 measured + 1,000 warm-up), the server 15 s of CPU (1.5
// cores), the generators 3 s (0.3 cores), PostgreSQL 2 s (0.2 cores).
const phase = { perSecond: 400, completed: 4000, warmupCompleted: 1000, phaseWallMs: 10_000, serverCpuMs: 15_000, generatorCpuMs: 3000, postgresCpuMs: 2000, machineCpuMs: 19_000 };

describe('bench: the CPU budget of a target (issue 17)', () => {
  it('issue 17: the budget is the cores the server had (machine minus generators and PostgreSQL, measured) divided by the target rate', () => {
    const b = rateBudget(phase, 600, 2);
    assert.equal(b.serverMsPerCeremony, 3);
    assert.equal(b.generatorMsPerCeremony, 0.6);
    assert.equal(b.postgresMsPerCeremony, 0.4);
    assert.equal(b.serverCores, 1.5);
    assert.ok(Math.abs(b.serverHadCores - 1.5) < 1e-9);
    assert.equal(b.neededCores, 1.8);
    assert.ok(Math.abs(b.allowedMsPerCeremony - 2.5) < 1e-9);
    assert.ok(Math.abs(b.gapMs - 0.5) < 1e-9);
    // With the generators' and PostgreSQL's cost per ceremony growing with the rate: 2000/600 − 0.6 − 0.4.
    assert.ok(Math.abs(b.allowedMsPerCeremonyScaled - (2000 / 600 - 1)) < 1e-9);
  });

  it('issue 17: on SQLite (no PostgreSQL column) only the generators are taken from the cores', () => {
    const { postgresCpuMs: _pg, ...sqlite } = phase;
    const b = rateBudget(sqlite, 500, 2);
    assert.ok(Math.abs(b.serverHadCores - 1.7) < 1e-9);
    assert.equal(b.postgresMsPerCeremony, 0);
    assert.ok(Math.abs(b.allowedMsPerCeremony - 3.4) < 1e-9);
    assert.ok(b.gapMs < 0, 'a target within the budget has nothing to go');
  });

  it('issue 17: the p99 explanation: utilisation of the cores left to the server, Little\'s law, the rate a p99 target needs', () => {
    const q = queueing({ ...phase, clients: 16, meanMs: 40 }, 4, 25, 2);
    assert.ok(Math.abs(q.utilisation - 1) < 1e-9, 'the server used all the cores it had');
    assert.equal(q.littleMeanMs, 40);
    assert.equal(q.queueFactor, 10);
    assert.equal(q.requiredPerSecond, 640);
    assert.ok(Math.abs(q.allowedMsPerCeremony - 1500 / 640) < 1e-9);
  });

  it('issue 17: scale-out: the share of the machine a configuration used bounds what any number of instances can reach', () => {
    const m = machineShare(phase, 2);
    assert.equal(m.oursCores, 2);
    assert.equal(m.machineCores, 1.9);
    assert.equal(m.ceilingPerSecond, 400, 'at 200 % already, a second instance cannot add throughput');
  });

  it('issue 17: every cost the profile classifier can report has a fixed reason', async () => {
    const source = await import('node:fs').then((fs) => fs.readFileSync(new URL('../../scripts/bench/profileCosts.ts', import.meta.url), 'utf8'));
    const labels = [...source.matchAll(/\['([^']*(?:\\'[^']*)*)', \(f/g)].map((m) => (m[1] ?? '').replace(/\\'/g, "'"));
    assert.ok(labels.length > 10);
    for (const label of [...labels, 'Garbage collection', 'Other (V8 outside JavaScript, npm helpers)']) assert.ok(COST_REASONS[label], label);
  });
});

describe('bench: CPU from /proc (issue 17, how the cores were shared)', () => {
  it('issue 17: /proc/<pid>/stat is read after the last ")" (a comm with spaces and parentheses)', () => {
    const line = '4242 (postgres: gw (x) idle) S 4200 4200 4200 0 -1 4194560 100 0 0 0 150 25 7 3 20 0 1 0 12345 1000 10 18446744073709551615';
    assert.deepEqual(parseProcStat(line), { pid: 4242, ppid: 4200, utime: 150, stime: 25, cutime: 7, cstime: 3 });
    assert.equal(parseProcStat('garbage'), undefined);
  });

  it('issue 17: a cluster\'s CPU is the postmaster, its ended children (cutime, cstime) and its live children, not other processes', () => {
    const root = { pid: 10, ppid: 1, utime: 5, stime: 5, cutime: 20, cstime: 10 };
    const children = [
      { pid: 11, ppid: 10, utime: 100, stime: 50, cutime: 0, cstime: 0 },
      { pid: 12, ppid: 10, utime: 30, stime: 20, cutime: 0, cstime: 0 },
      { pid: 99, ppid: 2, utime: 1000, stime: 1000, cutime: 0, cstime: 0 },
    ];
    assert.equal(treeTicks(root, children), 5 + 5 + 20 + 10 + 150 + 50);
  });

  it('issue 17: the machine\'s busy time from /proc/stat leaves out idle and iowait', () => {
    const stat = 'cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\n';
    assert.deepEqual(parseMachineStat(stat), { busy: 160, total: 1000 });
  });
});

describe('bench: every phase ends (issue 17: the hung --baseline run)', () => {
  it('issue 17: a child that exits during a phase ends it with an error naming the child and its last lines', async () => {
    const child = spawn(process.execPath, ['-e', 'console.error("pool exhausted"); setTimeout(() => process.exit(3), 50)'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const tail = new LineTail();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => tail.push(c));
    const never = () => new Promise<never>(() => undefined);
    await assert.rejects(bounded('pg1-enrol-16', never, { watched: [{ name: 'load generator', child, lastLines: () => tail.text() }] }), (err: unknown) => {
      assert.ok(err instanceof PhaseAborted);
      assert.match(err.message, /pg1-enrol-16: load generator \(pid \d+\) exited with code 3 during the phase/);
      assert.match(err.message, /pool exhausted/);
      return true;
    });
  });

  it('issue 17: a server that accepts a request and never answers fails the ceremony with REQUEST_TIMEOUT (the load generator never waits for ever)', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s)); // reads nothing, answers nothing
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true });
    try {
      const client = new BrowserClient(`http://localhost:${port}`, agent, 200);
      await assert.rejects(client.post('/api/enrolment/options', { token: 'x' }), (err: unknown) => {
        assert.equal((err as { code?: unknown }).code, 'REQUEST_TIMEOUT');
        return true;
      });
    } finally {
      agent.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('issue 17: a server whose listen queue is full (the connection is never accepted) fails the ceremony with CONNECT_TIMEOUT, bounded like any request', async () => {
    // A listener whose process never accepts: its queue holds backlog + 1 connections, then the
    // kernel drops further SYNs and the connect waits on the kernel's retries (node's own request
    // timeout starts only once the socket is connected).
    const script = "const s = require('net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => { process.stdout.write(String(s.address().port) + '\\n'); setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 50); });";
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    const fillers: net.Socket[] = [];
    const agent = new http.Agent({ keepAlive: true });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once('exit', () => reject(new Error('the listener exited')));
      });
      await new Promise((resolve) => setTimeout(resolve, 200)); // its event loop is blocked from here
      // Fill the queue: connect until one connection is not accepted within 300 ms.
      for (let i = 0; i < 16; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        fillers.push(s);
        const connected = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 300);
          s.once('connect', () => {
            clearTimeout(t);
            resolve(true);
          });
        });
        if (!connected) break;
        assert.ok(i < 15, 'the listen queue never filled');
      }
      const client = new BrowserClient(`http://localhost:${port}`, agent, 300);
      await assert.rejects(client.post('/api/enrolment/options', { token: 'x' }), (err: unknown) => {
        assert.equal((err as { code?: unknown }).code, 'CONNECT_TIMEOUT');
        assert.match((err as Error).message, /no connection accepted for POST \/api\/enrolment\/options within 0.3 s/);
        return true;
      });
    } finally {
      agent.destroy();
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    }
  });

  it('issue 17: a phase past its deadline ends with an error instead of waiting for ever', async () => {
    const never = () => new Promise<never>(() => undefined);
    await assert.rejects(bounded('sqlite-signin-16', never, { deadlineMs: 50, watched: [] }), /sqlite-signin-16: not finished within its deadline/);
  });

  it('issue 17: a phase that ends in time gives its result', async () => {
    assert.equal(await bounded('quick', async () => 42, { deadlineMs: 10_000, watched: [] }), 42);
  });

  it('issue 17: the profiled phases are on by default; --no-cpu-prof switches them off', () => {
    assert.equal(parseOptions([]).cpuProf, true);
    assert.equal(parseOptions(['--quick']).cpuProf, true);
    assert.equal(parseOptions(['--no-cpu-prof']).cpuProf, false);
  });
});
