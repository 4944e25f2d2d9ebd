/**
 * Compact JWS over the Signer port (CONVENTIONS 7: the app sees a public JWK, a kid and an async
 * sign; only hsm/ knows PKCS#11).
 */
export interface SigningPort {
  readonly kid: string;
  readonly alg: 'ES256';
  readonly publicJwk: Readonly<Record<string, string>>;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

const b64 = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

export async function signCompactJws(signer: SigningPort, payload: object, typ = 'JWT'): Promise<string> {
  const header = { alg: signer.alg, kid: signer.kid, typ };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const signature = await signer.sign(new TextEncoder().encode(input));
  if (signature.length !== 64) throw new Error(`ES256 signature must be 64 bytes, got ${signature.length}`);
  return `${input}.${b64(signature)}`;
}
