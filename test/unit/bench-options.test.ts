/**
 * The benchmark's command line (scripts/bench/options.ts) and the refusals of `--baseline`
 * (scripts/bench/baseline.ts) before anything is checked out: issue 17 asks for before and after
 * figures on the same machine in the same run, against an explicitly named commit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dependencyDifferences, resolveBaseline } from '../../scripts/bench/baseline.js';
import { parseOptions } from '../../scripts/bench/options.js';

describe('npm run bench -- --baseline (issue 17)', () => {
  it('issue 17: --baseline takes the git ref given', () => {
    assert.equal(parseOptions(['--quick', '--baseline', 'cf0b07c']).baseline, 'cf0b07c');
    assert.equal(parseOptions(['--baseline', 'v1.2/rc~1']).baseline, 'v1.2/rc~1');
  });

  it('issue 17: without --baseline no baseline is benched', () => {
    assert.equal(parseOptions(['--quick']).baseline, undefined);
  });

  it('issue 17: --baseline without a ref is refused (there is no default)', () => {
    assert.throws(() => parseOptions(['--baseline']), /--baseline needs a git ref.*no default/);
    assert.throws(() => parseOptions(['--baseline', '--quick']), /--baseline needs a git ref/);
  });

  it('issue 17: a --baseline that is not a ref is refused before git sees it', () => {
    assert.throws(() => parseOptions(['--baseline', 'main; rm -rf /']), /not a git ref/);
  });

  it('issue 17: a ref that names no commit of the repository is refused', () => {
    assert.throws(() => resolveBaseline('no-such-branch-of-this-repository'), /not a commit of this repository/);
  });

  it('issue 17: HEAD resolves to a full commit id', () => {
    assert.match(resolveBaseline('HEAD'), /^[0-9a-f]{40}$/);
  });

  it('issue 17: identical dependencies share node_modules; any difference is named', () => {
    const here = JSON.stringify({ dependencies: { express: '^5.1.0', zod: '^3.24.0' }, devDependencies: { tsx: '^4.19.0' } });
    assert.deepEqual(dependencyDifferences(here, here), []);
    const bumped = JSON.stringify({ dependencies: { express: '^5.0.0', zod: '^3.24.0' }, devDependencies: { tsx: '^4.19.0', vite: '^6.0.0' } });
    assert.deepEqual(dependencyDifferences(here, bumped), ['express (dependencies: here ^5.1.0, baseline ^5.0.0)', 'vite (devDependencies: here absent, baseline ^6.0.0)']);
  });
});
