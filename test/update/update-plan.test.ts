import t from 'tap';
import { commitDecision, planApply, planStartup, releasesToPrune } from '../../agent/update/update-plan.js';
import { compareVersions, isReleaseVersion } from '../../agent/update/semver.js';
import type { ReleaseManifest } from '../../agent/update/release-manifest.js';
import type { UpdateState } from '../../agent/update/update-state.js';

const manifest = (version: string, minVersion?: string): ReleaseManifest => ({ format: 'praxisbox-release-1', keyId: 'k', version, sha256: 'a'.repeat(64), size: 10, ...(minVersion ? { minVersion } : {}) });
const state = (over: Partial<UpdateState> = {}): UpdateState => ({ from: '1.0.0', to: '1.1.0', stage: 'switched', attempts: 0, deadline: null, healthBefore: 'ok', reported: false, updatedAt: '', ...over });

t.test('semver precedence', async (t) => {
  const ordered = ['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.10.0', '2.0.0'];
  for (let i = 0; i + 1 < ordered.length; i++) {
    t.ok(compareVersions(ordered[i] as string, ordered[i + 1] as string) < 0, `${ordered[i]} < ${ordered[i + 1]}`);
    t.ok(compareVersions(ordered[i + 1] as string, ordered[i] as string) > 0);
  }
  t.equal(compareVersions('1.2.3', '1.2.3'), 0);
  for (const bad of ['1.2', 'v1.2.3', '01.2.3', '1.2.3+build', '../1.2.3', '1.2.3/x', 'test']) t.notOk(isReleaseVersion(bad), `${bad} is not a release version`);
  t.throws(() => compareVersions('test', '1.0.0'));
});

t.test('planApply', async (t) => {
  const base = { running: '1.0.0', currentTarget: '1.0.0', allowDowngrade: false, state: undefined };
  t.same(planApply({ ...base, manifest: manifest('1.1.0'), requested: '1.1.0' }), { kind: 'install' });
  t.match(planApply({ ...base, manifest: manifest('1.1.0'), requested: '1.2.0' }), { kind: 'refuse', reason: /requested version 1.2.0 but the signed release is 1.1.0/ });
  t.match(planApply({ ...base, manifest: manifest('1.0.0'), requested: '1.0.0' }), { kind: 'noop' });
  t.match(planApply({ ...base, manifest: manifest('0.9.0'), requested: '0.9.0' }), { kind: 'refuse', reason: /older than the running/ });
  t.same(planApply({ ...base, allowDowngrade: true, manifest: manifest('0.9.0'), requested: '0.9.0' }), { kind: 'install' });
  t.match(planApply({ ...base, manifest: manifest('1.2.0', '1.1.0'), requested: '1.2.0' }), { kind: 'refuse', reason: /needs 1.1.0 or newer/ });
  t.same(planApply({ ...base, manifest: manifest('1.2.0', '1.0.0'), requested: '1.2.0' }), { kind: 'install' });
  t.match(planApply({ ...base, running: 'test', manifest: manifest('1.1.0'), requested: '1.1.0' }), { kind: 'refuse', reason: /not a release build/ });
  t.match(planApply({ ...base, currentTarget: undefined, manifest: manifest('1.1.0'), requested: '1.1.0' }), { kind: 'refuse', reason: /does not run from the release tree/ });
  t.match(planApply({ ...base, state: state(), manifest: manifest('1.2.0'), requested: '1.2.0' }), { kind: 'refuse', reason: /in progress/ });
  t.same(planApply({ ...base, state: state({ stage: 'rolled-back' }), manifest: manifest('1.1.0'), requested: '1.1.0' }), { kind: 'install' }, 'a failed version may be tried again');
});

t.test('planStartup', async (t) => {
  t.same(planStartup(undefined, '1.0.0', '1.0.0'), { kind: 'idle' });
  t.same(planStartup(state(), '1.1.0', '1.1.0'), { kind: 'await-commit' });
  t.same(planStartup(state(), '1.0.0', '1.1.0'), { kind: 'pending-restart' });
  t.match(planStartup(state(), '1.0.0', '1.0.0'), { kind: 'mark-failed', reason: /interrupted before the switch/ });
  t.same(planStartup(state({ stage: 'rolled-back' }), '1.0.0', '1.0.0'), { kind: 'report', outcome: 'failed' });
  t.same(planStartup(state({ stage: 'failed' }), '1.0.0', '1.0.0'), { kind: 'report', outcome: 'failed' });
  t.same(planStartup(state({ stage: 'committed' }), '1.1.0', '1.1.0'), { kind: 'report', outcome: 'committed' });
  t.same(planStartup(state({ stage: 'committed', reported: true }), '1.1.0', '1.1.0'), { kind: 'idle' });
});

t.test('commitDecision: no worse than before, within the deadline', async (t) => {
  const at = { now: 1000, deadline: 2000 };
  t.equal(commitDecision({ ...at, health: 'ok', settled: true, healthBefore: 'ok' }), 'commit');
  t.equal(commitDecision({ ...at, health: 'ok', settled: false, healthBefore: 'ok' }), 'wait', 'modules still starting');
  t.equal(commitDecision({ ...at, health: 'degraded', settled: true, healthBefore: 'ok' }), 'wait', 'green box must be green again');
  t.equal(commitDecision({ ...at, health: 'degraded', settled: true, healthBefore: 'degraded' }), 'commit', 'a yellow box may stay yellow');
  t.equal(commitDecision({ ...at, health: 'fault', settled: true, healthBefore: 'degraded' }), 'wait');
  t.equal(commitDecision({ now: 2000, deadline: 2000, health: 'fault', settled: true, healthBefore: 'degraded' }), 'rollback');
  t.equal(commitDecision({ now: 2000, deadline: 2000, health: 'ok', settled: false, healthBefore: 'ok' }), 'rollback', 'never settled');
});

t.test('releasesToPrune keeps current, previous and the newest up to keep', async (t) => {
  t.same(releasesToPrune(['1.0.0', '1.1.0', '1.2.0', '0.9.0', '.partial', '1.3.0.partial'], 2, '1.2.0', '1.1.0').sort(), ['0.9.0', '1.0.0']);
  t.same(releasesToPrune(['1.0.0', '1.1.0', '1.2.0', '0.9.0'], 3, '1.2.0', '0.9.0').sort(), ['1.0.0'], 'previous kept even when old; then the newest');
  t.same(releasesToPrune(['1.2.0'], 2, '1.2.0', '1.1.0'), []);
});
