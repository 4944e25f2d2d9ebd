/**
 * The trust anchor and witness a command verifies against: `--anchor FILE` (an exported anchor
 * file) or, by default, the keys on the configured HSM token (read with the configured PIN,
 * each proven by a signature); `--witness DIR`, by default the configured witness directory
 * (GATEWAY_AUDIT_WITNESS_DIR), or `--no-witness`.
 */
import { HsmConnection, applySoftHsm2ConfDefault } from '../../hsm/index.js';
import { tokenConfigs } from '../../server/keys/openHsm.js';
import { anchorFromHsm, readAnchorFile, type TrustAnchor } from '../../server/audit/trustAnchor.js';
import { listWitnessDirectory, type WitnessedCheckpoint } from '../../server/audit/witness.js';
import type { Config } from '../../server/config.js';

export async function loadTrustAnchor(config: Readonly<Config>, anchorFile: string | undefined): Promise<TrustAnchor> {
  if (anchorFile) return readAnchorFile(anchorFile);
  applySoftHsm2ConfDefault(process.env, config.varDir);
  // The first configured token (the primary of a failover group holds every key the others do).
  const [primary] = tokenConfigs(config.hsm);
  if (!primary) throw new Error('no HSM token is configured');
  const hsm = await HsmConnection.open(primary, { sessions: 1 });
  try {
    return await anchorFromHsm(hsm, config.hsm.keyPolicy);
  } finally {
    await hsm.close();
  }
}

export function loadWitness(config: Readonly<Config>, dir: string | undefined, none: boolean): { source: string; checkpoints: WitnessedCheckpoint[] } | undefined {
  if (none) return undefined;
  const source = dir ?? config.auditWitnessDir;
  return { source, checkpoints: listWitnessDirectory(source) };
}
