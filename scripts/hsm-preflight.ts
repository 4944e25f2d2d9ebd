/**
 * Checks, without logging in, that the HSM tokens the gateway is configured for can be used:
 * each PKCS#11 module loads and initialises, a token with the configured label is present, and
 * its PIN (GATEWAY_HSM_PIN, or a PIN file) is there. scripts/bootstrap.sh runs it when the
 * module is not SoftHSM (it creates nothing for such an HSM). Never logs in: a wrong PIN would
 * count against the HSM's lockout. Every error names the setting to fix.
 *
 *   node --import tsx scripts/hsm-preflight.ts     # exit 0: ready; 1: a setting to fix
 */
import { existsSync } from 'node:fs';
import * as graphene from 'graphene-pk11';
import pkcs11 from 'pkcs11js';
import { readPinFile, toHsmError } from '../hsm/index.js';
import { loadConfig } from '../server/config.js';

function tokens(module: graphene.Module): { label: string; serial: string }[] {
  const slots = module.getSlots(true);
  const found: { label: string; serial: string }[] = [];
  for (let i = 0; i < slots.length; i++) {
    try {
      const token = slots.items(i).getToken();
      found.push({ label: token.label, serial: token.serialNumber });
    } catch {
      // A token that cannot be read is not the one configured.
    }
  }
  return found;
}

function main(): number {
  const config = loadConfig();
  let failures = 0;
  const fail = (setting: string, message: string): void => {
    failures += 1;
    process.stderr.write(`hsm-preflight: ${setting}: ${message}\n`);
  };
  for (const token of config.hsm.tokens) {
    if (!token.pinFromEnv) {
      try {
        readPinFile(token.pinFile, token.source.pin);
      } catch (err) {
        fail(token.source.pin, err instanceof Error ? err.message : String(err));
      }
    }
    if (!existsSync(token.modulePath)) {
      fail(token.source.module, `the PKCS#11 module ${token.modulePath} does not exist`);
      continue;
    }
    let module: graphene.Module;
    try {
      module = graphene.Module.load(token.modulePath, token.name);
      module.initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
    } catch (err) {
      fail(token.source.module, `the PKCS#11 module ${token.modulePath} cannot be loaded and initialised (${toHsmError(err, 'C_Initialize').message})`);
      continue;
    }
    try {
      const present = tokens(module);
      const matches = present.filter((t) => t.label === token.tokenLabel && (token.tokenSerial === undefined || t.serial === token.tokenSerial)).length;
      const labels = present.map((t) => `"${t.label}" (serial ${t.serial})`).join(', ') || 'none';
      if (matches === 0) fail(token.source.tokenLabel, `no token labelled "${token.tokenLabel}"${token.tokenSerial ? ` with serial number ${token.tokenSerial}` : ''} in ${token.modulePath} (present: ${labels})`);
      else if (matches > 1) fail(token.source.tokenLabel, `${matches} tokens are labelled "${token.tokenLabel}" in ${token.modulePath}; name the one to use by its serial number (tokenSerial in GATEWAY_HSM_TOKENS_FILE)`);
      else process.stdout.write(`hsm-preflight: token "${token.tokenLabel}" (${token.name}) present in ${token.modulePath}\n`);
    } catch (err) {
      fail(token.source.module, `cannot list the tokens of ${token.modulePath} (${toHsmError(err, 'C_GetSlotList').message})`);
    } finally {
      try {
        module.finalize();
      } catch {
        // Nothing left to release.
      }
    }
  }
  return failures === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`hsm-preflight: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
