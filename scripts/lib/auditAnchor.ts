/**
 * The trust anchor and witness a command verifies against: `--anchor FILE` (an exported anchor
 * file) or, by default, the keys on the configured HSM token (read with the configured PIN,
 * each proven by a signature); `--witness DIR`, by default the configured witness directory
 * (GATEWAY_AUDIT_WITNESS_DIR), or `--no-witness`.
 */
import { HsmConnection, applySoftHsm2ConfDefault, readPin } from '../../hsm/index.js';
import { anchorFromHsm, readAnchorFile, type TrustAnchor } from '../../server/audit/trustAnchor.js';
import { listWitnessDirectory, type WitnessedCheckpoint } from '../../server/audit/witness.js';
import type { Config } from '../../server/config.js';

export async function loadTrustAnchor(config: Readonly<Config>, anchorFile: string | undefined): Promise<TrustAnchor> {
  if (anchorFile) return readAnchorFile(anchorFile);
  applySoftHsm2ConfDefault(process.env, config.varDir);
  const pin = readPin({ GATEWAY_HSM_PIN: config.hsm.pinFromEnv, GATEWAY_HSM_PIN_FILE: config.hsm.pinFile }, config.varDir);
  const hsm = await HsmConnection.open({ modulePath: config.hsm.modulePath, tokenLabel: config.hsm.tokenLabel, pin }, { sessions: 1 });
  try {
    return await anchorFromHsm(hsm);
  } finally {
    await hsm.close();
  }
}

export function loadWitness(config: Readonly<Config>, dir: string | undefined, none: boolean): { source: string; checkpoints: WitnessedCheckpoint[] } | undefined {
  if (none) return undefined;
  const source = dir ?? config.auditWitnessDir;
  return { source, checkpoints: listWitnessDirectory(source) };
}
