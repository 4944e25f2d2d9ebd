/**
 * Recovers a locked-out organisation administrator (server/admin/recoverAdmin.ts): run on the
 * gateway server, with the HSM user PIN, it issues a fresh one-time enrolment link for that
 * administrator only, writes it to a 0600 file under var/ (never to the terminal or a log),
 * audits it and mails every staff member.
 *
 *   npm run recover-admin                       # the organisation's only administrator
 *   npm run recover-admin -- --email a@org.dk   # one of several administrators
 *
 * The PIN is asked for on the terminal (not echoed), or read from the first line of standard
 * input when that is not a terminal; it is never taken from the gateway's PIN file or environment:
 * whoever recovers must know it. It is proven by logging in to the token.
 *
 * Exit status: 0 link issued; 1 refused (no or wrong PIN, HSM unavailable or another token, the
 * administrator still has an active key, another administrator can act, not an administrator),
 * with the reason; 2 usage, or no gateway database here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HsmConnection, HsmError, applySoftHsm2ConfDefault } from '../hsm/index.js';
import { readTokenSigningKey } from '../hsm/publicKeys.js';
import { RECOVERY_LINK_FILE, writeEnrolmentLinkFile } from '../server/admin/enrolmentLinkFile.js';
import { RecoveryRefused, auditRefusal, chooseAdministrator, currentOperator, recoverAdministrator, recoveryBlocker, type Operator } from '../server/admin/recoverAdmin.js';
import { systemClock } from '../server/clock.js';
import { loadConfig, type Config } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import type { Store } from '../server/ports/store.js';
import { createToolCore } from '../server/toolCore.js';

const USAGE = 'usage: npm run recover-admin -- [--email ADMIN_EMAIL]   (the HSM user PIN is asked for, or read from stdin)\n';

/** The PIN typed on the terminal, without echo. */
function pinFromTerminal(): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write('HSM user PIN: ');
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let pin = '';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(pin);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') pin = pin.slice(0, -1);
        else pin += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The first line of standard input (a pipe or a file). */
async function pinFromPipe(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n') || text.length > 4096) break;
  }
  return (text.split('\n')[0] ?? '').trim();
}

/** Proves the PIN: a login to the configured token, which must hold the gateway's active key. */
async function provePin(config: Readonly<Config>, store: Store, pin: string): Promise<void> {
  applySoftHsm2ConfDefault(process.env, config.varDir);
  let hsm: HsmConnection;
  try {
    // The primary token of the configuration, with the PIN the operator typed (never the PIN file).
    const primary = config.hsm.tokens[0];
    if (!primary) throw new HsmError('HSM_TOKEN_NOT_FOUND', 'no HSM token is configured');
    hsm = await HsmConnection.open(
      { name: primary.name, modulePath: primary.modulePath, tokenLabel: primary.tokenLabel, ...(primary.tokenSerial === undefined ? {} : { tokenSerial: primary.tokenSerial }), pin },
      { sessions: 1 },
    );
  } catch (err) {
    if (err instanceof HsmError && err.code === 'HSM_LOGIN_FAILED') throw new RecoveryRefused('pin-refused', 'The HSM token did not accept the PIN.');
    throw new RecoveryRefused('hsm-unavailable', `The HSM token "${config.hsm.tokens[0]?.tokenLabel ?? config.hsm.tokenLabel}" cannot be reached: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const active = await store.read((tx) => tx.signingKeys.active());
    const onToken = active ? await readTokenSigningKey(hsm, active.ckaId, config.hsm.keyPolicy) : undefined;
    if (!active || onToken?.kid !== active.kid) {
      throw new RecoveryRefused('wrong-token', `The token "${config.hsm.tokenLabel}" does not hold this gateway's active signing key; it is not this gateway's HSM.`);
    }
  } finally {
    await hsm.close();
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let email: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--email' && argv[i + 1]) email = argv[++i];
    else {
      process.stderr.write(USAGE);
      return 2;
    }
  }
  const config = loadConfig();
  // On PostgreSQL (GATEWAY_DATABASE_URL) there is no database file: the secret key file alone says
  // this is a gateway's server (the database is opened, and refused if unreachable, below).
  const needed = config.database ? [config.secretFile] : [config.dbFile, config.secretFile];
  if (!needed.every((f) => fs.existsSync(f))) {
    process.stderr.write(`recover-admin: no gateway here (${needed.join(' and ')} must exist); run it on the gateway server, with its configuration\n`);
    return 2;
  }
  const clock = systemClock;
  const log = createLogger('silent');
  const core = await createToolCore(config, { log, clock });
  const { store, outbox } = core;
  const operator: Operator = currentOperator(config.hsm.tokenLabel);
  try {
    let subject: string | null = null;
    try {
      const pin = process.stdin.isTTY ? await pinFromTerminal() : await pinFromPipe();
      if (!pin) throw new RecoveryRefused('no-pin', 'No HSM user PIN was given: recovery needs it.');
      await provePin(config, store, pin);
      const admin = await chooseAdministrator(store, email);
      subject = admin.id;
      const blocker = await recoveryBlocker(store, admin);
      if (blocker) throw blocker;
      const result = await recoverAdministrator(core.flows, admin, operator);
      const file = path.join(config.varDir, RECOVERY_LINK_FILE);
      writeEnrolmentLinkFile(file, {
        purpose: 'One-time enrolment link issued by npm run recover-admin (administrator recovery).',
        name: admin.name,
        email: admin.email,
        link: result.link,
        expiresAt: result.expiresAt,
      });
      await outbox.flush();
      process.stdout.write(
        [
          `recover-admin: a one-time enrolment link for ${admin.name} <${admin.email}> (valid until ${result.expiresAt}) is in`,
          `  ${file}`,
          '(readable by this user only). The activation code goes to the administrator\'s address.',
          `recover-admin: audited (admin.recovered); ${result.notified.length} staff member(s) were mailed: ${result.notified.join(', ')}`,
          '',
        ].join('\n'),
      );
      return 0;
    } catch (err) {
      if (!(err instanceof RecoveryRefused)) throw err;
      await auditRefusal(store, clock, err.reason, operator, subject);
      process.stderr.write(`recover-admin: refused (${err.reason}): ${err.message}\n`);
      return 1;
    }
  } finally {
    await core.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`recover-admin: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
