/** The attestation policy, row by row, each with the evidence that leads to it (NSIS 3.2.1). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideAal, type AttestationPolicy, type AuthenticatorEvidence } from '../../server/assurance/policy.js';

const POLICY: AttestationPolicy = { highCertification: 'FIDO_CERTIFIED_L2', requireDeviceBound: true, allowAaguids: null, blockAaguids: [] };
const YUBI = 'ee882879-721c-4913-9775-3dfcce97072a';
const base: AuthenticatorEvidence = {
  aaguid: YUBI,
  attestationFormat: 'packed',
  attestationVerified: true,
  certification: 'FIDO_CERTIFIED_L2',
  compromised: false,
  userVerified: true,
  backupEligible: false,
};

describe('authenticator assurance policy (NSIS 3.2.1)', () => {
  it('NSIS 3.2.1 (High) 5: verified attestation + certified L2 + UV + device-bound reaches High', () => {
    assert.equal(decideAal(base, POLICY).level, 'high');
  });
  it('High needs the configured certification: L1 stays Substantial', () => {
    assert.equal(decideAal({ ...base, certification: 'FIDO_CERTIFIED_L1' }, POLICY).level, 'substantial');
    assert.equal(decideAal({ ...base, certification: 'FIDO_CERTIFIED_L3' }, { ...POLICY, highCertification: 'FIDO_CERTIFIED_L3plus' }).level, 'substantial');
  });
  it('NSIS 3.2.1 (Substantial) 1: an unverified ("none") attestation with UV, device-bound, is Substantial, never High', () => {
    assert.equal(decideAal({ ...base, attestationFormat: 'none', attestationVerified: false, certification: null }, POLICY).level, 'substantial');
    assert.equal(decideAal({ ...base, attestationVerified: false }, POLICY).level, 'substantial', 'claimed certification without a verified chain counts for nothing');
  });
  it('NSIS 3.2.1 (Low) 1: possession only (no user verification) is Low', () => {
    assert.equal(decideAal({ ...base, userVerified: false }, POLICY).level, 'low');
  });
  it('synced credentials are refused when device-bound keys are required, Low otherwise', () => {
    assert.equal(decideAal({ ...base, backupEligible: true }, POLICY).refused, true);
    assert.equal(decideAal({ ...base, backupEligible: true }, { ...POLICY, requireDeviceBound: false }).level, 'low');
  });
  it('a model the metadata reports compromised is refused', () => {
    assert.equal(decideAal({ ...base, compromised: true }, POLICY).refused, true);
  });
  it('the block list applies to verified attestations only (an unverified AAGUID can be forged)', () => {
    const blocked = { ...POLICY, blockAaguids: [YUBI] };
    assert.equal(decideAal(base, blocked).refused, true);
    assert.equal(decideAal({ ...base, attestationVerified: false }, blocked).level, 'substantial');
  });
  it('with an allow list, only verified attestations of listed models are accepted', () => {
    const allow = { ...POLICY, allowAaguids: [YUBI] };
    assert.equal(decideAal(base, allow).level, 'high');
    assert.equal(decideAal({ ...base, attestationVerified: false }, allow).refused, true, 'a forged AAGUID does not pass the allow list');
    assert.equal(decideAal({ ...base, aaguid: '01020304-0506-0708-0102-030405060708' }, allow).refused, true);
  });
});
