/**
 * The trust anchor of audit verification: the public keys the verifier trusts, taken from
 * outside the database it checks (NSIS 6 (Low) 7, 4.1.7 (Low) 3). Either
 *
 * - the HSM token: every signing key pair on it, each proven by a signature (hsm/publicKeys.ts), or
 * - an anchor file exported earlier (`npm run audit:anchor -- FILE`) and kept apart from the
 *   server, e.g. by the security officers: JSON, each key with its RFC 7638 thumbprint (kid), its
 *   public JWK and its C2SP verifier key (for standard note tools to check the witness files).
 *
 * Keys the gateway made after an anchor file was exported are reached through the signed key
 * records (server/keys/keyRecords.ts), so an old anchor file keeps working across rotations.
 */
import fs from 'node:fs';
import { z } from 'zod';
import type { HsmConnection, KeyPolicyProfile } from '../../hsm/index.js';
import { listTokenSigningKeys } from '../../hsm/publicKeys.js';
import { ecThumbprint } from '../keys/keyRecords.js';
import { ecdsaVerifierKey } from './signedNote.js';

export const ANCHOR_FORMAT = 'nsis-gateway-audit-anchor/v1';

export interface AnchorKey {
  kid: string;
  jwk: Record<string, string>;
}

export interface TrustAnchor {
  source: 'hsm' | 'file';
  /** Where the keys came from, for the report. */
  description: string;
  keys: AnchorKey[];
  /** HSM keys that were not accepted (policy or proof failed), with the reason. */
  refused: { ckaId: string; reason: string }[];
}

export class AnchorFileError extends Error {
  override readonly name = 'AnchorFileError';
}

/** Every signing key the HSM token holds and proves. */
export async function anchorFromHsm(hsm: HsmConnection, profile: KeyPolicyProfile = 'strict'): Promise<TrustAnchor> {
  const listing = await listTokenSigningKeys(hsm, profile);
  return {
    source: 'hsm',
    description: `the HSM token "${hsm.tokenLabel}" (${listing.keys.length} key${listing.keys.length === 1 ? '' : 's'}, each proven by a signature)`,
    keys: listing.keys.map((k) => ({ kid: k.kid, jwk: { ...k.publicJwk } })),
    refused: listing.refused,
  };
}

const fileSchema = z.object({
  format: z.literal(ANCHOR_FORMAT),
  exportedAt: z.string(),
  origin: z.string(),
  source: z.string(),
  keys: z
    .array(
      z.object({
        kid: z.string(),
        alg: z.literal('ES256'),
        jwk: z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string() }),
        noteVerifierKey: z.string(),
      }),
    )
    .min(1),
});

/** Reads and checks an anchor file: every kid must be its key's RFC 7638 thumbprint. */
export function readAnchorFile(file: string): TrustAnchor {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new AnchorFileError(`the anchor file ${file} cannot be read (${err instanceof Error && 'code' in err ? String(err.code) : 'unreadable'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new AnchorFileError(`the anchor file ${file} is not JSON`);
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) throw new AnchorFileError(`the anchor file ${file} is not a ${ANCHOR_FORMAT} file: ${result.error.issues[0]?.message ?? 'invalid'}`);
  for (const k of result.data.keys) {
    if (ecThumbprint(k.jwk) !== k.kid) throw new AnchorFileError(`the anchor file ${file}: kid ${k.kid} is not the RFC 7638 thumbprint of its key`);
  }
  return {
    source: 'file',
    description: `the anchor file ${file} (exported ${result.data.exportedAt} from ${result.data.source}, ${result.data.keys.length} key${result.data.keys.length === 1 ? '' : 's'})`,
    keys: result.data.keys.map((k) => ({ kid: k.kid, jwk: { ...k.jwk } })),
    refused: [],
  };
}

/** The anchor file's content for these keys. */
export function anchorFileContent(anchor: TrustAnchor, origin: string, noteKeyName: string, exportedAt: string): string {
  const body = {
    format: ANCHOR_FORMAT,
    exportedAt,
    origin,
    source: anchor.description,
    keys: anchor.keys.map((k) => ({ kid: k.kid, alg: 'ES256', jwk: k.jwk, noteVerifierKey: ecdsaVerifierKey(noteKeyName, k.jwk) })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}
