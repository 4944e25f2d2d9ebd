/**
 * Service providers from a configuration file (GATEWAY_SAML_SP_FILE): a JSON array of
 * `{ "metadataFile": "nemlogin.xml", "settings": { ... } }`, metadata paths relative to the file.
 * Checked at start (a bad entry stops the gateway, naming it); each registered as a system action
 * and audited when it changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../config.js';
import { SYSTEM_ACTOR } from '../../domain/types.js';
import { GatewayError } from '../../errors.js';
import { registerServiceProvider } from './registerServiceProvider.js';
import type { SamlDeps } from './samlDeps.js';

const fileSchema = z.array(z.object({ metadataFile: z.string().min(1), settings: z.unknown().optional() }).strict()).max(200);

export async function loadSpFile(deps: SamlDeps, file: string): Promise<string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('GATEWAY_SAML_SP_FILE', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError('GATEWAY_SAML_SP_FILE', `entry ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const registered: string[] = [];
  for (const [i, entry] of result.data.entries()) {
    const metadataPath = path.resolve(path.dirname(file), entry.metadataFile);
    let metadataXml: string;
    try {
      metadataXml = fs.readFileSync(metadataPath, 'utf8');
    } catch (err) {
      throw new ConfigError('GATEWAY_SAML_SP_FILE', `entry ${i}: cannot read ${metadataPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      registered.push((await registerServiceProvider(deps, { metadataXml, settings: entry.settings, source: 'config', actor: SYSTEM_ACTOR })).entityId);
    } catch (err) {
      if (err instanceof GatewayError) throw new ConfigError('GATEWAY_SAML_SP_FILE', `entry ${i} (${entry.metadataFile}): ${err.detail}`);
      throw err;
    }
  }
  return registered;
}
