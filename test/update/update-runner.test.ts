import t, { type Test } from 'tap';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { UpdateRunner, type UpdateRunnerDeps } from '../../agent/update/update-runner.js';
import { ReleaseStore } from '../../agent/update/release-store.js';
import { readUpdateState } from '../../agent/update/update-state.js';
import { UpdateSection, type UpdateConfig } from '../../agent/update/update-config.js';
import { Value } from '@sinclair/typebox/value';
import { signManifest } from '../../agent/update/release-manifest.js';
import { appendUpload } from '../../agent/update/release-source.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { currentVersion, fakeReleaseTree, install, pack, testKey, treeListing } from './release-fixture.js';

async function setup(t: Test, config: Partial<UpdateConfig> = {}) {
  const { dir, cleanup } = await tempDir('praxisbox-runner-');
  t.teardown(cleanup);
  const appDir = path.join(dir, 'app');
  const dataDir = path.join(dir, 'data');
  await fs.mkdir(dataDir);
  const key = await testKey(dir);
  await install(appDir, await fakeReleaseTree(path.join(dir, 'src-1.0.0'), '1.0.0'), '1.0.0', true);
  const progress: string[] = [];
  const deps: UpdateRunnerDeps = {
    store: new ReleaseStore(appDir),
    dataDir,
    running: '1.0.0',
    keyring: () => key.keyring,
    config: () => ({ ...(Value.Default(UpdateSection, {}) as UpdateConfig), ...config }) as UpdateConfig,
    clock: { now: () => Date.now() } as UpdateRunnerDeps['clock'],
    log: captureLog().log,
    fetch,
    health: async () => 'ok',
    progress: (stage, version, extra) => progress.push(`${stage}:${version}${extra?.percent !== undefined ? `:${extra.percent}` : ''}`),
    step: async () => undefined,
  };
  const release = async (version: string, onStart: 'run' | 'crash' = 'run') => pack(await fakeReleaseTree(path.join(dir, `src-${version}`), version, onStart), path.join(dir, 'out'), key);
  return { dir, appDir, dataDir, key, deps, runner: new UpdateRunner(deps), progress, release };
}

t.test('a good release: unpacked, state written, current switched', async (t) => {
  const s = await setup(t);
  const r = await s.release('1.1.0');
  const data = (await fs.readFile(r.tarball)).toString('base64');
  const outcome = await s.runner.apply({ version: '1.1.0', sig: await fs.readFile(r.sigFile, 'utf8'), source: { data } });
  t.same(outcome, { outcome: 'switched', from: '1.0.0', to: '1.1.0' });
  t.equal(await s.deps.store.currentTarget(), '1.1.0');
  t.equal(await currentVersion(s.appDir), '1.1.0', 'current runs the new release');
  t.match(await readUpdateState(s.dataDir), { from: '1.0.0', to: '1.1.0', stage: 'switched', attempts: 0, healthBefore: 'ok', reported: false });
  t.same((await s.deps.store.list()).sort(), ['1.0.0', '1.1.0'], 'the previous release stays');
  t.same(await fs.readdir(s.deps.store.incomingDir), [], 'the tarball is gone from incoming');
  t.same(s.progress, ['downloading:1.1.0:0', 'verifying:1.1.0', 'unpacking:1.1.0', 'switching:1.1.0']);
  await t.rejects(s.runner.apply({ version: '1.2.0', sig: await fs.readFile(r.sigFile, 'utf8'), source: { data } }), { code: 'CommandRejected' }, 'one update at a time');
});

t.test('refused releases change nothing', async (t) => {
  const s = await setup(t);
  const good = await s.release('1.1.0');
  const sig = JSON.parse(await fs.readFile(good.sigFile, 'utf8')) as Record<string, unknown>;
  const data = (await fs.readFile(good.tarball)).toString('base64');
  const before = [...(await treeListing(s.appDir)), ...(await treeListing(s.dataDir))];
  const cases: [string, Parameters<UpdateRunner['apply']>[0], RegExp][] = [
    ['bad signature', { version: '1.1.0', sig: { ...sig, signature: Buffer.alloc(64, 1).toString('base64') }, source: { data } }, /does not verify/],
    ['signed by an unknown key', { version: '1.1.0', sig: signManifest({ keyId: 'intruder', version: '1.1.0', sha256: sig['sha256'] as string, size: sig['size'] as number }, (await testKey(s.dir, 'intruder')).privateKeyPem), source: { data } }, /does not trust/],
    ['tarball swapped', { version: '1.1.0', sig, source: { data: Buffer.from('not the release').toString('base64') } }, /bytes, the signed manifest says|SHA-256/],
    ['version mismatch', { version: '1.2.0', sig, source: { data } }, /requested version 1.2.0/],
    ['older version', { version: '0.9.0', sig: JSON.parse(await fs.readFile((await s.release('0.9.0')).sigFile, 'utf8')), source: { data } }, /older than the running/],
  ];
  for (const [name, req, message] of cases) {
    await t.rejects(s.runner.apply(req), { code: 'CommandRejected', message }, name);
  }
  const same = await s.release('1.0.0');
  t.match(await s.runner.apply({ version: '1.0.0', sig: await fs.readFile(same.sigFile, 'utf8'), source: { data: (await fs.readFile(same.tarball)).toString('base64') } }), { outcome: 'noop' }, 'same version: nothing to do');
  const after = [...(await treeListing(s.appDir)), ...(await treeListing(s.dataDir))].filter((p) => p !== 'incoming/');
  t.same(after, before.filter((p) => p !== 'incoming/'), 'releases, current, guard and state unchanged');
  t.equal(await currentVersion(s.appDir), '1.0.0');
});

t.test('a signed tarball that is not a release is refused after unpacking, nothing switched', async (t) => {
  const s = await setup(t);
  const tree = await fakeReleaseTree(path.join(s.dir, 'src-2.0.0'), '2.0.0');
  const r = await pack(tree, path.join(s.dir, 'out'), s.key);
  // Same tarball bytes, but the manifest claims another version: the package.json inside disagrees.
  const lie = signManifest({ keyId: s.key.keyId, version: '2.0.1', sha256: r.manifest.sha256, size: r.manifest.size }, s.key.privateKeyPem);
  await t.rejects(s.runner.apply({ version: '2.0.1', sig: lie, source: { data: (await fs.readFile(r.tarball)).toString('base64') } }), { code: 'InvalidInput', message: /not a complete release of 2.0.1/ });
  t.same((await s.deps.store.list()).sort(), ['1.0.0']);
  t.same((await fs.readdir(s.deps.store.releasesDir)).sort(), ['1.0.0'], 'no .partial left');
  t.equal(await readUpdateState(s.dataDir), undefined);
});

t.test('downgrade only with the setting and the request', async (t) => {
  const s = await setup(t, { allowDowngrade: true });
  const r = await s.release('0.9.0');
  const req = { version: '0.9.0', sig: await fs.readFile(r.sigFile, 'utf8'), source: { data: (await fs.readFile(r.tarball)).toString('base64') } };
  await t.rejects(s.runner.apply(req), { message: /older than the running/ }, 'setting alone is not enough');
  t.match(await s.runner.apply({ ...req, allowDowngrade: true }), { outcome: 'switched', to: '0.9.0' });
});

t.test('download over http from localhost, with limits; uploads in pieces', async (t) => {
  const s = await setup(t);
  const r = await s.release('1.1.0');
  const bytes = await fs.readFile(r.tarball);
  let body: Buffer = bytes;
  const server = http.createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/r.tar.gz`;
  const sig = await fs.readFile(r.sigFile, 'utf8');
  await t.rejects(s.runner.apply({ version: '1.1.0', sig, source: { url: url.replace('127.0.0.1', '192.0.2.1') } }), { code: 'InvalidInput', message: /https/ }, 'plain http only to localhost');
  body = Buffer.concat([bytes, Buffer.alloc(10)]);
  await t.rejects(s.runner.apply({ version: '1.1.0', sig, source: { url } }), { code: 'CommandRejected', message: /larger than/ }, 'a longer body is cut off');
  const small = new UpdateRunner({ ...s.deps, config: () => ({ ...(Value.Default(UpdateSection, {}) as UpdateConfig), maxDownloadBytes: 16 }) as UpdateConfig });
  await t.rejects(small.apply({ version: '1.1.0', sig, source: { url } }), { message: /exceeds update.maxDownloadBytes/ });
  t.same(await s.deps.store.list(), ['1.0.0']);
  body = bytes;
  t.match(await s.runner.apply({ version: '1.1.0', sig, source: { url } }), { outcome: 'switched', to: '1.1.0' });

  const s2 = await setup(t);
  const r2 = await s2.release('1.2.0');
  const b2 = await fs.readFile(r2.tarball);
  let offset = 0;
  for (let i = 0; i < b2.length; i += 1000) offset = await appendUpload(s2.deps.store.incomingDir, 'upload-0001', i, b2.subarray(i, i + 1000), 1 << 20);
  await appendUpload(s2.deps.store.incomingDir, 'upload-0001', 0, b2.subarray(0, 1000), 1 << 20).then(() => appendUpload(s2.deps.store.incomingDir, 'upload-0001', 1000, b2.subarray(1000), 1 << 20));
  t.equal(offset, b2.length);
  await t.rejects(appendUpload(s2.deps.store.incomingDir, 'upload-0001', b2.length + 5, Buffer.alloc(1), 1 << 20), { message: /gap/ });
  t.match(await s2.runner.apply({ version: '1.2.0', sig: await fs.readFile(r2.sigFile, 'utf8'), source: { upload: 'upload-0001' } }), { outcome: 'switched', to: '1.2.0' });
});

t.test('commit installs the new guard and prunes; rollback switches back', async (t) => {
  const s = await setup(t, { keepReleases: 2 });
  for (const v of ['0.8.0', '0.9.0']) await install(s.appDir, await fakeReleaseTree(path.join(s.dir, `src-${v}`), v), v);
  const r = await s.release('1.1.0');
  await s.runner.apply({ version: '1.1.0', sig: await fs.readFile(r.sigFile, 'utf8'), source: { data: (await fs.readFile(r.tarball)).toString('base64') } });
  await fs.writeFile(path.join(s.deps.store.releasesDir, '1.1.0', 'agent', 'update', 'update-guard.mjs'), '// guard of 1.1.0\n');
  const state = await readUpdateState(s.dataDir);
  await new UpdateRunner({ ...s.deps, running: '1.1.0' }).commit(state as NonNullable<typeof state>);
  t.match(await readUpdateState(s.dataDir), { stage: 'committed', reported: false });
  t.equal(await fs.readFile(path.join(s.appDir, 'update-guard.mjs'), 'utf8'), '// guard of 1.1.0\n', 'guard refreshed from the new release');
  t.same((await fs.readdir(s.deps.store.releasesDir)).sort(), ['1.0.0', '1.1.0'], 'older releases pruned, previous kept');

  const s2 = await setup(t);
  const r2 = await s2.release('1.1.0');
  await s2.runner.apply({ version: '1.1.0', sig: await fs.readFile(r2.sigFile, 'utf8'), source: { data: (await fs.readFile(r2.tarball)).toString('base64') } });
  const st2 = await readUpdateState(s2.dataDir);
  await new UpdateRunner({ ...s2.deps, running: '1.1.0' }).rollback(st2 as NonNullable<typeof st2>, 'not healthy');
  t.equal(await currentVersion(s2.appDir), '1.0.0');
  t.match(await readUpdateState(s2.dataDir), { stage: 'rolled-back', reason: 'not healthy', reported: false });
});
