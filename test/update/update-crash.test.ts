import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ReleaseStore } from '../../agent/update/release-store.js';
import { readUpdateState, writeUpdateState } from '../../agent/update/update-state.js';
import { tempDir } from '../helpers/fixtures.js';
import { onLines } from '../helpers/child-lines.js';
import { childEnv, currentVersion, fakeReleaseTree, inParallel, install, pack, runGuard, testKey } from './release-fixture.js';

/**
 * kill -9 at every step of an update, a commit and a rollback (the child pauses there and is
 * killed), then the guard runs as on the next boot: `current` must point at a complete release
 * whose bin runs, and the state must say what happened. Every step is synced before the next one
 * starts, so a power cut at the same point leaves the same tree (docs/updates.md).
 */
const child = path.join(import.meta.dirname, 'update-crash-child.mjs');

function runChild(args: string[], pauseAt: string): Promise<'killed' | 'done'> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, ...args.slice(0, 5), pauseAt, ...args.slice(5)], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let outcome: 'killed' | 'done' | undefined;
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    onLines(proc.stdout, (line) => {
      if (line === `AT ${pauseAt}`) {
        outcome = 'killed';
        proc.kill('SIGKILL');
      } else if (line === 'DONE') outcome = 'done';
    });
    proc.on('close', (code, signal) => (outcome ? resolve(outcome) : reject(new Error(`child ended (${code ?? signal}) without reaching ${pauseAt}: ${stderr}`))));
  });
}

t.test('kill -9 at each step leaves a bootable current', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-crash-');
  t.teardown(cleanup);
  const key = await testKey(dir);
  const v1 = await fakeReleaseTree(path.join(dir, 'src-1.0.0'), '1.0.0');
  const v2 = await fakeReleaseTree(path.join(dir, 'src-1.1.0'), '1.1.0');
  const r = await pack(v2, path.join(dir, 'out'), key);
  let n = 0;
  /** A box on 1.0.0; `switched` = as after a complete apply and the new release's first start. */
  const freshBox = async (switched = false) => {
    const appDir = path.join(dir, `app-${++n}`);
    const dataDir = path.join(dir, `data-${n}`);
    await fs.mkdir(dataDir);
    await install(appDir, v1, '1.0.0', true);
    if (switched) {
      await install(appDir, v2, '1.1.0');
      await writeUpdateState(dataDir, { from: '1.0.0', to: '1.1.0', stage: 'switched', attempts: 1, deadline: null, healthBefore: 'ok', reported: false, updatedAt: '' });
      await new ReleaseStore(appDir).switchTo('1.1.0');
    }
    return { appDir, dataDir };
  };
  const apply = (b: { appDir: string; dataDir: string }, pauseAt: string) => runChild(['apply', b.appDir, b.dataDir, '1.0.0', key.keyringFile, r.tarball, r.sigFile], pauseAt);

  const applySteps: [string, string, string | undefined, boolean][] = [
    ['verified', '1.0.0', undefined, false],
    ['downloaded', '1.0.0', undefined, false],
    ['unpacked-partial', '1.0.0', undefined, true],
    ['unpacked', '1.0.0', undefined, false],
    ['state-written', '1.0.0', 'failed', true],
    ['symlink-created', '1.0.0', 'failed', false],
    ['switched', '1.1.0', 'switched', false],
  ];
  const jobs: (() => Promise<void>)[] = applySteps.map(([step, expected, stage, again]) => async () => {
    const b = await freshBox();
    t.equal(await apply(b, step), 'killed', `apply killed at ${step}`);
    t.equal((await runGuard(b.appDir, b.dataDir)).code, 0);
    t.equal(await currentVersion(b.appDir), expected, `after a kill at ${step}, current runs ${expected}`);
    t.equal((await readUpdateState(b.dataDir))?.stage, stage, `state after a kill at ${step}: ${stage ?? 'none'}`);
    if (again) {
      t.equal(await apply(b, 'never'), 'done', `a new apply after the kill at ${step} succeeds`);
      t.equal(await new ReleaseStore(b.appDir).currentTarget(), '1.1.0');
      t.notOk((await fs.readdir(path.join(b.appDir, 'releases'))).some((x) => x.startsWith('.') || x.endsWith('.partial')), 'no leftovers');
    }
  });
  for (const step of ['committed', 'guard-installed']) {
    jobs.push(async () => {
      const b = await freshBox(true);
      t.equal(await runChild(['commit', b.appDir, b.dataDir, '1.1.0', key.keyringFile], step), 'killed', `commit killed at ${step}`);
      await runGuard(b.appDir, b.dataDir);
      t.equal(await currentVersion(b.appDir), '1.1.0', `after a kill at ${step} the committed release stays`);
      t.equal((await readUpdateState(b.dataDir))?.stage, 'committed');
    });
  }
  for (const step of ['rollback-state-written', 'symlink-created']) {
    jobs.push(async () => {
      const b = await freshBox(true);
      t.equal(await runChild(['rollback', b.appDir, b.dataDir, '1.1.0', key.keyringFile], step), 'killed', `rollback killed at ${step}`);
      await runGuard(b.appDir, b.dataDir);
      t.equal(await currentVersion(b.appDir), '1.0.0', `after a kill at ${step} the rollback is finished`);
      t.match(await readUpdateState(b.dataDir), { stage: 'rolled-back', reason: 'not healthy' });
    });
  }
  await inParallel(jobs, 4);
});
