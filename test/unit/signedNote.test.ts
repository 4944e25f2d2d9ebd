/**
 * The witness format: C2SP signed notes with ECDSA P-256 signatures (type 0x02) and our
 * tlog-checkpoint mapping of the audit hash chain. Interoperability is checked against real
 * checkpoints signed by other logs, kept as data with their source.
 */
import assert from 'node:assert/strict';
import { generateKeyObjects } from '../../scripts/lib/keyPairs.js';
import { sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkpointOrigin, checkpointText, checkpointTextHash, parseCheckpointNote, signCheckpointNote, verifyCheckpointNote } from '../../server/audit/checkpointNote.js';
import {
  NoteFormatError,
  ecdsaKeyId,
  ecdsaVerifierKey,
  findVerifiedSignature,
  formatSignedNote,
  p1363ToDer,
  parseEcdsaVerifierKey,
  parseSignedNote,
} from '../../server/audit/signedNote.js';
import { ecThumbprint } from '../../server/keys/keyRecords.js';

/**
 * Real ECDSA (type 0x02) checkpoints with their verifier keys, from github.com/transparency-dev/formats
 * note/note_verifier_test.go (Apache-2.0): the Sigstore Rekor log and the Pixel 6 transparency log.
 */
const PUBLISHED = [
  {
    vkey: 'rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=',
    note: 'Rekor\n798034\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n\u2014 rekor.sigstore.dev wNI9ajBEAiARInWIWyCdyG27CO6LPnPekyw20qO0YJfoaPaowGp/XgIgc+qEHS3+GKVClgqq20uDLet7MCoTURUCRdxwWBHHufk=\n',
  },
  {
    vkey: 'pixel6_transparency_log+91c16e30+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABN+4x0Jk1yTwvLFI9A4NDdGZcX0aiWVdWM5XJVy0M4VWD3AvyW5Q6Hs9A0mcDkpUoYgn+KKPNzFC0H3nN3q6JQ8=',
    note: 'DEFAULT\n10\nbsWRucJU5xJPHb5eBdOm6+DM+VelCZBuvtI3sHERJ9Y=\n\n\u2014 pixel6_transparency_log kcFuMDBFAiEAhqMAP8P6qf6QxtUJhzMhbN+MbZ9dwfUHzGQJmffJHtoCIGD0cNe47dHWBoPwYdgBCepB06/+g5O1FmYjXl06owL4\n',
  },
] as const;

function p256(): { jwk: Record<string, string>; signRaw: (data: Uint8Array) => Promise<Uint8Array> } {
  const { publicKey, privateKey } = generateKeyObjects('ec', { namedCurve: 'prime256v1' });
  const exported = publicKey.export({ format: 'jwk' });
  const jwk: Record<string, string> = {};
  for (const [k, v] of Object.entries(exported)) if (typeof v === 'string') jwk[k] = v;
  return { jwk, signRaw: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })) };
}

describe('C2SP signed notes with ECDSA P-256 (the audit witness format, NSIS 6 (Low) 7)', () => {
  it('NSIS 6 (Low) 7: real ECDSA checkpoints of other logs verify with our verifier, and our key IDs match theirs (SHA-256 of the SPKI)', () => {
    for (const v of PUBLISHED) {
      const key = parseEcdsaVerifierKey(v.vkey);
      assert.equal(ecdsaKeyId(key.jwk), key.keyId);
      assert.equal(ecdsaVerifierKey(key.name, key.jwk), v.vkey);
      const note = parseSignedNote(v.note);
      assert.equal(findVerifiedSignature(note, key.name, key.jwk), 'verified', v.vkey);
      // One changed byte of the text and the signature no longer verifies.
      const altered = parseSignedNote(v.note.replace(/\n\d+\n/, (m) => m.replace(/\d/, (d) => String((Number(d) + 1) % 10))));
      assert.equal(findVerifiedSignature(altered, key.name, key.jwk), 'invalid');
    }
  });

  it('a note we sign round-trips: DER signature, key ID, key name; unknown keys are ignored, not trusted', async () => {
    const { jwk, signRaw } = p256();
    const text = 'example.org/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
    const der = p1363ToDer(await signRaw(new TextEncoder().encode(text)));
    assert.equal(der[0], 0x30);
    const note = formatSignedNote(text, [{ name: 'example.org/log', keyId: ecdsaKeyId(jwk), signature: der }]);
    assert.equal(findVerifiedSignature(parseSignedNote(note), 'example.org/log', jwk), 'verified');
    assert.equal(findVerifiedSignature(parseSignedNote(note), 'other.example/log', jwk), 'absent');
    const other = p256();
    assert.equal(findVerifiedSignature(parseSignedNote(note), 'example.org/log', other.jwk), 'absent');
  });

  it('malformed notes are refused: no blank line, control characters, bad signature lines, non-canonical base64', () => {
    const bad = [
      'a\nb\n',
      'a\n\n\u2014 k AAAAAAA=',
      'a\u0007\n\n\u2014 k AAAAAAAA\n',
      'a\n\n- k AAAAAAAA\n',
      'a\n\n\u2014 k+x AAAAAAAA\n',
      'a\n\n\u2014 k AAAA\n',
    ];
    for (const n of bad) assert.throws(() => parseSignedNote(n), NoteFormatError, JSON.stringify(n));
  });

  it('NSIS 6 (Low) 7: an audit checkpoint is a tlog-checkpoint note: origin, size = head sequence, root = head hash, extension lines for the chain link, number, time and kid', async () => {
    const { jwk, signRaw } = p256();
    const kid = ecThumbprint(jwk) ?? '';
    const body = { origin: checkpointOrigin('https://idp.example.dk'), seq: 42, headHash: 'ab'.repeat(32), n: 3, prevHash: 'cd'.repeat(32), at: '2026-01-02T03:04:05.678Z', kid };
    const note = await signCheckpointNote(body, jwk, signRaw);
    assert.equal(
      checkpointText(body),
      `idp.example.dk/audit\n42\n${Buffer.from('ab'.repeat(32), 'hex').toString('base64')}\nhash-chain sha256 v1\ncheckpoint 3\nprev ${Buffer.from('cd'.repeat(32), 'hex').toString('base64')}\ntime 2026-01-02T03:04:05.678Z\nkid ${kid}\n`,
    );
    assert.match(note, /\n\n\u2014 idp\.example\.dk\/audit [A-Za-z0-9+/]+=*\n$/);
    assert.deepEqual(parseCheckpointNote(note).body, body);
    const verified = verifyCheckpointNote(note, (k) => (k === kid ? jwk : undefined));
    assert.ok('body' in verified);
    assert.ok('problem' in verifyCheckpointNote(note, () => p256().jwk));
    assert.ok('problem' in verifyCheckpointNote(note, () => undefined));
    // The first checkpoint links to nothing; the link is SHA-256 of the previous signed text.
    assert.match(checkpointText({ ...body, prevHash: null }), /\nprev none\n/);
    assert.equal(checkpointTextHash('x'), '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
  });
});
