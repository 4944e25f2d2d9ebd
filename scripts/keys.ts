/**
 * Security team CLI for the HSM signing keys.
 *
 *   npm run keys -- list                      keys with state, alg, kid, times and the HSM attribute check
 *   npm run keys -- jwks                      the published JWK Set
 *   npm run keys -- requests                  key-management requests and their decisions
 *   npm run keys -- request rotation --reason "yearly rotation"
 *   npm run keys -- request emergency-rotation --kid <kid> --reason "..."
 *   npm run keys -- request destroy --kid <kid> --reason "..."
 *   npm run keys -- approve <request-id>
 *   npm run keys -- reject <request-id>
 *
 * list, jwks and requests read the local database and HSM. request, approve and reject change
 * keys, so they go through the running gateway as a security officer signed in with a security
 * key (NSIS 6 (Substantial) 11): sign in at <origin>/security.html, copy the value of the
 * gw_session cookie (__Host-gw_session on https) into a file only you can read, and pass
 * --session-file <file> (or GATEWAY_SESSION_FILE). Two different officers must request and approve.
 */
import fs from 'node:fs';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { createRuntime } from '../server/runtime.js';

const args = process.argv.slice(2);
const command = args[0];

function option(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')).join('\n');
}

async function local(): Promise<void> {
  const config = loadConfig();
  const runtime = await createRuntime(config, { log: createLogger('silent'), initialKey: false });
  try {
    const keys = runtime.keys;
    if (!keys) throw new Error('no HSM configured');
    if (command === 'jwks') {
      process.stdout.write(`${JSON.stringify(await keys.jwks(), null, 2)}\n`);
    } else if (command === 'requests') {
      const rows = [['ID', 'KIND', 'STATE', 'TARGET', 'REQUESTED', 'BY', 'DECIDED BY', 'RESULT']];
      for (const r of await keys.listRequests()) {
        rows.push([r.id, r.kind, r.state, r.targetKid ?? '-', r.requestedAt, r.requestedBy, r.decidedBy ?? '-', r.result ?? '-']);
      }
      process.stdout.write(`${table(rows)}\n`);
    } else {
      const rows = [['STATE', 'ALG', 'KID', 'CREATED', 'ACTIVATED', 'RETIRED', 'HSM ATTRIBUTE CHECK']];
      for (const k of await keys.list()) {
        const tokens = k.attributeCheck?.tokens ?? [];
        const where = tokens.length > 1 ? ` [${tokens.map((t) => `${t.token}: ${t.status !== 'ok' ? 'unavailable' : !t.present ? 'missing' : t.ok ? 'ok' : 'FAILED'}`).join(', ')}]` : '';
        const check =
          k.attributeCheck === null
            ? '(destroyed)'
            : k.attributeCheck.ok
              ? `OK (${k.attributeCheck.profile})${where}`
              : `FAILED (${k.attributeCheck.profile}) ${k.attributeCheck.error ?? k.attributeCheck.violations.join('; ')}${where}`;
        rows.push([k.state, k.alg, k.kid, k.createdAt, k.activatedAt ?? '-', k.retiredAt ?? '-', check]);
      }
      process.stdout.write(`${table(rows)}\n`);
    }
  } finally {
    await runtime.close();
  }
}

async function remote(): Promise<number> {
  const config = loadConfig();
  const file = option('session-file') ?? process.env['GATEWAY_SESSION_FILE'];
  if (!file) {
    process.stderr.write('keys: changing keys needs a security officer signed in with a security key: pass --session-file <file>\n');
    return 2;
  }
  const session = fs.readFileSync(file, 'utf8').trim();
  const cookie = `${config.secureCookies ? '__Host-gw_session' : 'gw_session'}=${session}`;
  let path: string;
  let body: object = {};
  if (command === 'request') {
    const kind = args[1];
    const reason = option('reason');
    if (!kind || !reason) {
      process.stderr.write('keys: usage: request <rotation|emergency-rotation|destroy> [--kid <kid>] --reason "..."\n');
      return 2;
    }
    const kid = option('kid');
    path = '/api/security/key-requests';
    body = { kind, reason, ...(kid ? { targetKid: kid } : {}) };
  } else {
    const id = args[1];
    if (!id) {
      process.stderr.write(`keys: usage: ${command} <request-id>\n`);
      return 2;
    }
    path = `/api/security/key-requests/${id}/${command}`;
  }
  const res = await fetch(config.origin + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: config.origin, cookie },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  process.stdout.write(`${res.status} ${text}\n`);
  return res.ok ? 0 : 1;
}

async function main(): Promise<number> {
  switch (command) {
    case 'list':
    case 'jwks':
    case 'requests':
      await local();
      return 0;
    case 'request':
    case 'approve':
    case 'reject':
      return remote();
    default:
      process.stderr.write('keys: commands: list | jwks | requests | request <kind> | approve <id> | reject <id>\n');
      return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`keys: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
