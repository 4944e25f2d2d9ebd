/**
 * Shared set-up for the hsm/ tests: the real SoftHSM token initialised by
 * scripts/bootstrap.sh. SOFTHSM2_CONF comes from the environment (set by
 * scripts/run-tests.sh); when a file is run on its own without it, the
 * bootstrap's var/softhsm2.conf is used.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type HsmConfig, applySoftHsm2ConfDefault, loadHsmConfig } from '../../hsm/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const varDir = path.join(repoRoot, 'var');

export function testHsmConfig(overrides: Partial<HsmConfig> = {}): HsmConfig {
  if (!applySoftHsm2ConfDefault(process.env, varDir)) {
    throw new Error('SOFTHSM2_CONF is not set and var/softhsm2.conf is missing: run bash scripts/bootstrap.sh');
  }
  return { ...loadHsmConfig(process.env, varDir), ...overrides };
}

/** A key label unique to this test run, so parallel or aborted runs do not collide. */
export function uniqueLabel(purpose: string): string {
  return `test-${purpose}-${randomBytes(4).toString('hex')}`;
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
