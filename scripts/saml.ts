/**
 * The SAML identity provider's operator commands (issue 15). They open the gateway's database and
 * HSM token as the gateway does (GATEWAY_* configuration, GATEWAY_SAML_ENABLED=true); every change
 * is audited.
 *
 *   npm run saml:metadata [-- --out idp-metadata.xml]   the IdP metadata file for MitID Erhverv
 *   npm run saml:keys -- list                           SAML signing keys, states and certificates
 *   npm run saml:keys -- generate                       a new pending key (RSA in the HSM, self-signed)
 *   npm run saml:keys -- csr <kid> [--out req.pem]      a PKCS#10 request for the CA (OCES3), signed in the HSM
 *   npm run saml:keys -- import <kid> <cert.pem>        the CA-issued certificate (checked against the key)
 *
 * The switch to a pending key, the destruction of a retired one and the discarding of a pending one
 * are not here: they wait for a second security officer (NSIS 6 (Substantial) 11) through the
 * gateway's API, POST /api/security/saml/keys/<kid>/activate, /destroy and /discard, approved at
 * POST /api/approvals/<id>/approve.
 *
 * Rollover (docs/oiosaml3.md): generate, export and upload metadata (active + next), ask for and
 * approve the switch, export and upload (new active + previous), ask for and approve the
 * destruction of the old key, export and upload.
 */
import fs from 'node:fs';
import { loadConfig } from '../server/config.js';
import { SYSTEM_ACTOR } from '../server/domain/types.js';
import { GatewayError } from '../server/errors.js';
import { idpMetadata } from '../server/flows/saml/idpMetadata.js';
import { createLogger } from '../server/logger.js';
import { createRuntime } from '../server/runtime.js';

const [mode, command, ...rest] = process.argv.slice(2);

function option(name: string): string | undefined {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
}

function output(text: string): void {
  const out = mode === 'metadata' ? (command === '--out' ? rest[0] : undefined) : option('out');
  if (out) {
    fs.writeFileSync(out, text, { mode: 0o644 });
    process.stderr.write(`saml: wrote ${out}\n`);
  } else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

async function main(): Promise<number> {
  const config = loadConfig();
  if (!config.saml.enabled) {
    process.stderr.write('saml: set GATEWAY_SAML_ENABLED=true (the SAML identity provider is off)\n');
    return 2;
  }
  const runtime = await createRuntime(config, { log: createLogger('silent'), initialKey: false });
  try {
    const saml = runtime.saml;
    if (!saml) throw new Error('no HSM configured');
    const keys = saml.keys;
    const kid = rest[0] ?? '';
    if (mode === 'metadata') {
      output(await idpMetadata(saml));
    } else if (command === 'generate') {
      const k = await keys.generate(SYSTEM_ACTOR);
      process.stdout.write(`pending ${k.kid}\n`);
    } else if (command === 'csr') {
      output(await keys.certificationRequest(kid));
    } else if (command === 'import') {
      await keys.importCertificate(kid, fs.readFileSync(rest[1] ?? '', 'utf8'), SYSTEM_ACTOR);
      process.stdout.write(`imported the certificate of ${kid}\n`);
    } else if (command === 'list' || command === undefined) {
      for (const k of await keys.keys()) process.stdout.write(`${k.state.padEnd(9)} ${k.kid}  created ${k.createdAt}  activated ${k.activatedAt ?? '-'}  retired ${k.retiredAt ?? '-'}  destroyed ${k.destroyedAt ?? '-'}\n`);
    } else {
      process.stderr.write(`saml: unknown command ${command}\n`);
      return 2;
    }
    return 0;
  } catch (err) {
    process.stderr.write(`saml: ${err instanceof GatewayError ? `${err.code}: ${err.detail}` : err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await runtime.close();
  }
}

process.exitCode = await main();
