/**
 * Smoke run of the load benchmark (scripts/bench.ts, `npm run bench`) in its smallest mode: the
 * gateway under test in its own process, the load generators, the reference server, the ceilings
 * and the stage breakdown all run to the end, every ceremony succeeds, and the report has every
 * table row. It asserts no speed: the figures are the benchmark's business, not a test's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../support/testGateway.js';

describe('load benchmark (issue 7), smoke run', () => {
  it('runs every phase with zero failed ceremonies and reports every table row', { timeout: 600_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
    const out = path.join(dir, 'report.md');
    try {
      const result = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', path.join(repoRoot, 'scripts', 'bench.ts'), '--quick', '--skip-growth', '--no-write', '--duration', '1', '--warmup', '0.3', '--out', out],
          { cwd: repoRoot, env: process.env, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stderr }));
      });
      assert.equal(result.status, 0, result.stderr);
      const report = fs.readFileSync(out, 'utf8');

      // Every target has a computed verdict, and no ceremony failed in any phase.
      for (const target of [
        'Sign-ins/s on SQLite with everything on ≥ 1.5× the in-memory reference at 16 clients',
        'Sign-ins/s on SQLite with everything on ≥ 1.5× the in-memory reference at 64 clients',
        'Sign-in p99 < 25 ms at 16 concurrent clients',
        'Enrolment ceremonies ≥ 500/s \\(SQLite',
        'Enrolment ceremonies ≥ 500/s \\(PostgreSQL',
        'PostgreSQL, 1 instance, sign-ins/s within 20 % of SQLite at 16 clients',
        'PostgreSQL, 2 instances ≥ 1.6× one \\(1 worker each\\) at 64 clients',
      ]) {
        assert.match(report, new RegExp(`\\| ${target}[^\\n]*\\| (met|\\*\\*NOT met\\*\\*) \\|`), target);
      }
      // SQLite: 3 sign-in + 3 enrolment phases; reference 3; PostgreSQL 3 + 3 enrolment, 3 with one worker, 3 with two instances.
      assert.match(report, /\| No failed ceremony in any phase \| 0 errors in 21 phases \| met \|/);

      // Ceilings.
      assert.match(report, /\| node:crypto ECDSA P-256 verifications, 1 core \| [\d,]+ \|/);
      assert.match(report, /\| node:crypto ECDSA P-256 verifications, \d+ cores \(worker_threads\) \| [\d,]+ \|/);
      assert.match(report, /\| SoftHSM CKM_ECDSA signatures, raw pkcs11js, 1 session, synchronous \(1 core\) \| [\d,]+ \|/);
      assert.match(report, /\| SoftHSM CKM_ECDSA signatures, raw pkcs11js, \d+ sessions, libuv pool \(all cores\) \| [\d,]+ \|/);

      // Both backends side by side, every configuration at 1, 16 and 64 clients with zero errors.
      for (const clients of [1, 16, 64]) {
        for (const server of ['SQLite, 1 instance × 2 workers', 'PostgreSQL, 1 instance × 2 workers', 'PostgreSQL, 1 instance × 1 worker', 'PostgreSQL, 2 instances × 1 worker', 'in-memory reference \\(1 process\\)']) {
          assert.match(report, new RegExp(`\\| ${clients} \\| ${server} \\| [\\d,]+ \\|[^\\n]*\\| 0 \\|`), `${server} ${clients}`);
        }
      }
      assert.match(report, /## Before and after on SQLite/);
      // Gateway and reference at 1, 16 and 64 clients, each with zero errors; enrolment likewise.
      for (const clients of [1, 16, 64]) {
        assert.match(report, new RegExp(`\\| ${clients} \\| gateway \\| [\\d,]+ \\|[^\\n]*\\| 0 \\|`), `gateway ${clients}`);
        assert.match(report, new RegExp(`\\| ${clients} \\| reference \\| [\\d,]+ \\|[^\\n]*\\| 0 \\|`), `reference ${clients}`);
        assert.match(report, new RegExp(`\\| ${clients} \\| [\\d,]+( \\(links ran out\\))? \\|[^\\n]*\\| 0 \\|`), `enrolment ${clients}`);
      }

      // Where the time goes: every stage, and the audit chain's verification.
      for (const stage of ['Options: challenge built', 'WebAuthn assertion verification', 'Completion: challenge consumed', 'HSM signature of the identity token', 'Token audit event committed', 'HTTP round trip', 'Sum of the stages', 'Floor: one raw 1-row SQLite commit', 'Floor: one 1-row PostgreSQL write', 'Database round trips per sign-in']) {
        assert.ok(report.includes(`| ${stage}`) || report.includes(`| **${stage}`), stage);
      }
      assert.match(report, /\| [\d,]+ \| [\d.]+ \| [\d,]+ \| [\d,]+ \| yes \| verifyAudit \(server\/audit\/verifyAudit\.ts\)/);
      assert.match(report, /## Growth\n\nNot run: skipped/);

      // Issue 17: the profiled phases run by default (gateway on SQLite and on PostgreSQL, the
      // reference), the cores are accounted for with PostgreSQL's own CPU, and every target that is
      // not met is explained from the run's measurements.
      assert.match(report, /\| Cost \| gateway on SQLite \| gateway on PostgreSQL \| in-memory reference \|/);
      assert.match(report, /\| PostgreSQL CPU \| Ours \| Machine \|/);
      assert.match(report, /\| 16 \| PostgreSQL, 1 instance × 2 workers \|[^\n]*\| \d+ % \| \d+ % \| \d+ % \| \d+ % \| \d+ % \|/);
      assert.match(report, /## Why each target that is not met is not met\n/);
      // Issue 17: the costs both servers pay, part by part, from profiles scaled to each thread's CPU.
      assert.match(report, /\| \*\*CPU \(profile scaled to each thread's \/proc CPU\) per sign-in\*\* \|/);
      assert.match(report, /HTTP \(Node http, Express, router, body parser\), part by part/);
      assert.match(report, /WebAuthn verification \(SimpleWebAuthn, WebCrypto key import, P-256\), part by part/);
      // The other threads kind by kind (scripts/bench/threadKinds.ts).
      assert.match(report, /, thread by thread \(/);
      assert.match(report, /\| libuv thread pool \(WebCrypto jobs; the gateway's fdatasync of the WAL\) \| [\d.]+ \| [\d.]+ \|/);
      assert.match(report, /\| CPU of the WebAuthn check \(all threads of the process, one check at a time\): the gateway's `verifyAssertion` \| [\d.]+ \|/);
      assert.match(report, /\| For comparison: CPU of the same assertion checked by SimpleWebAuthn's `verifyAuthenticationResponse` alone[^|]*\| [\d.]+ \|/);
      for (const heading of report.match(/^\| .+ \| \*\*NOT met\*\* \|$/gm) ?? []) {
        const target = heading.slice(2, heading.indexOf(' | '));
        assert.ok(report.includes(`### ${target}\n`), `explained: ${target}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
