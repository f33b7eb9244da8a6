import t, { type Test } from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ReleaseStore } from '../../agent/update/release-store.js';
import { readUpdateState, writeUpdateState, type UpdateState } from '../../agent/update/update-state.js';
import { tempDir } from '../helpers/fixtures.js';
import { currentVersion, fakeReleaseTree, install, runGuard } from './release-fixture.js';

/** The guard as systemd runs it (ExecStartPre, its own process) against crafted trees and states. */
async function box(t: Test, versions = ['1.0.0', '1.1.0'], current = '1.1.0') {
  const { dir, cleanup } = await tempDir('praxisbox-guard-');
  t.teardown(cleanup);
  const appDir = path.join(dir, 'app');
  const dataDir = path.join(dir, 'data');
  await fs.mkdir(dataDir);
  for (const v of versions) await install(appDir, await fakeReleaseTree(path.join(dir, `src-${v}`), v), v, v === current);
  const store = new ReleaseStore(appDir);
  const state = (over: Partial<UpdateState>): Promise<void> =>
    writeUpdateState(dataDir, { from: '1.0.0', to: '1.1.0', stage: 'switched', attempts: 0, deadline: null, healthBefore: 'ok', reported: false, updatedAt: '', ...over });
  const guard = async () => {
    const r = await runGuard(appDir, dataDir);
    t.equal(r.code, 0, 'the guard never fails the start');
    return r.stdout;
  };
  return { dir, appDir, dataDir, store, state, guard };
}

t.test('first start of a new release is counted; a second start without commit rolls back', async (t) => {
  const b = await box(t);
  await b.state({});
  t.match(await b.guard(), /first start of release 1.1.0/);
  t.match(await readUpdateState(b.dataDir), { stage: 'switched', attempts: 1 });
  t.equal(await currentVersion(b.appDir), '1.1.0');
  t.match(await b.guard(), /stopped before its commit: rolling back to 1.0.0/);
  t.match(await readUpdateState(b.dataDir), { stage: 'rolled-back', reported: false, reason: /stopped before it was committed/ });
  t.equal(await currentVersion(b.appDir), '1.0.0');
  t.match(await b.guard(), /current → 1.0.0/, 'stable afterwards');
  t.equal(await currentVersion(b.appDir), '1.0.0');
});

t.test('no state, committed state: nothing changes', async (t) => {
  const b = await box(t);
  t.match(await b.guard(), /current → 1.1.0/);
  await b.state({ stage: 'committed', attempts: 1, reported: true });
  await b.guard();
  t.equal(await currentVersion(b.appDir), '1.1.0');
  t.match(await readUpdateState(b.dataDir), { stage: 'committed' });
  await fs.writeFile(path.join(b.dataDir, 'update', 'state.json'), '{"torn');
  await b.guard();
  t.equal(await currentVersion(b.appDir), '1.1.0', 'an unreadable state is no update in progress');
});

t.test('switch never happened: state failed, current kept', async (t) => {
  const b = await box(t, ['1.0.0', '1.1.0'], '1.0.0');
  await b.state({});
  t.match(await b.guard(), /interrupted before the switch/);
  t.match(await readUpdateState(b.dataDir), { stage: 'failed', reported: false });
  t.equal(await currentVersion(b.appDir), '1.0.0');
});

t.test('an interrupted rollback is finished', async (t) => {
  const b = await box(t);
  await b.state({ stage: 'rolled-back', attempts: 1, reason: 'not healthy' });
  await fs.symlink('releases/1.1.0', path.join(b.appDir, '.current.deadbeef0000'));
  await b.guard();
  t.equal(await currentVersion(b.appDir), '1.0.0');
  t.match(await readUpdateState(b.dataDir), { stage: 'rolled-back', reason: 'not healthy' }, 'reason kept');
  t.notOk((await fs.readdir(b.appDir)).some((n) => n.startsWith('.current.')), 'stray temp symlink removed');
});

t.test('current missing or broken: the previous, else the newest complete release', async (t) => {
  const b = await box(t, ['0.9.0', '1.0.0', '1.1.0'], '1.1.0');
  await b.state({ attempts: 0 });
  await fs.rm(path.join(b.appDir, 'releases', '1.1.0', 'bin'), { recursive: true });
  t.match(await b.guard(), /not a complete release: switched to 1.0.0/);
  t.equal(await currentVersion(b.appDir), '1.0.0');
  t.match(await readUpdateState(b.dataDir), { stage: 'rolled-back' });

  const c = await box(t, ['0.9.0', '1.0.0', '1.2.0'], '1.2.0');
  await fs.rm(path.join(c.appDir, 'current'));
  await fs.mkdir(path.join(c.appDir, 'releases', '1.3.0.partial', 'bin'), { recursive: true });
  await fs.writeFile(path.join(c.appDir, 'releases', '1.3.0.partial', 'bin', 'praxisbox.js'), '');
  t.match(await c.guard(), /current \(missing\) is not a complete release: switched to 1.2.0/, 'newest complete; .partial ignored');
  t.equal(await currentVersion(c.appDir), '1.2.0');

  const d = await box(t, ['1.0.0'], '1.0.0');
  await fs.writeFile(path.join(d.appDir, 'releases', '1.0.0', 'package.json'), '{"version": "9.9.9"}');
  t.match(await d.guard(), /no other complete release exists/);
});
