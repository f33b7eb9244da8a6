import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CloudSim } from '../../agent/cloud/sim/cloud-sim.js';
import { tempDir } from '../helpers/fixtures.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { eventually } from '../helpers/test-agent.js';
import { fakeReleaseTree, install, pack, realReleaseTree, runNode, testKey } from './release-fixture.js';
import { ServiceLoop } from './service-loop.js';

/**
 * The whole path with real agents: a box running the built agent as release 0.1.0 under a
 * systemd-like loop (guard before every start, restart on failure), the cloud simulator on a real
 * Mosquitto sending `update.apply` (chunked) and watching the progress and outcome events.
 */
t.test('updates end to end: commit, crash on start, never healthy', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-update-agent-');
  t.teardown(cleanup);
  const broker = await startMosquitto();
  t.teardown(broker.cleanup);
  const key = await testKey(dir);
  const appDir = path.join(dir, 'app');
  const dataDir = path.join(dir, 'data');
  await fs.mkdir(dataDir);
  await fs.writeFile(path.join(dataDir, 'config.json'), JSON.stringify({ update: { commitWithinSeconds: 5 }, cloud: { reconnectMaxMs: 1_000 } }));
  await install(appDir, await realReleaseTree(path.join(dir, 'src-0.1.0'), '0.1.0'), '0.1.0', true);
  const env = {
    PRAXISBOX_APP_DIR: appDir,
    PRAXISBOX_DATA_DIR: dataDir,
    PRAXISBOX_UPDATE_KEYRING: key.keyringFile,
    PRAXISBOX_CLOUD_URL: broker.url,
    PRAXISBOX_MQTT_PORT: '0',
    PRAXISBOX_WEB_PORT: '0',
    PRAXISBOX_MODULES_DISABLED: 'cards,gdt,printing',
  };
  const service = new ServiceLoop(appDir, env);
  t.teardown(() => service.stop());
  const cloud = await CloudSim.connect({ url: broker.url });
  t.teardown(() => cloud.close());
  await eventually('identity created', () => fs.access(path.join(dataDir, 'identity.json')).then(() => true, () => false), 20_000);
  const boxId = (JSON.parse(await fs.readFile(path.join(dataDir, 'identity.json'), 'utf8')) as { boxId: string }).boxId;
  const view = cloud.box(boxId);
  const runningVersion = (v: string) => eventually(`box online with ${v}`, () => view.health?.version === v && view.state?.online === true, 30_000);
  const events = (type: string) => view.events.filter((e) => e.type === type).map((e) => e.data as Record<string, unknown>);
  const applyRelease = async (tree: string) => {
    const r = await pack(tree, path.join(dir, 'out'), key);
    const data = (await fs.readFile(r.tarball)).toString('base64');
    return cloud.command(boxId, 'update.apply', { version: r.version, sig: r.manifest, data }, { timeoutMs: 30_000 });
  };
  /** update.status once the update module of the (re)started agent is running. */
  const updateStatus = async () => {
    let reply: Awaited<ReturnType<typeof cloud.command>> | undefined;
    await eventually('update.status answered', async () => {
      reply = await cloud.command(boxId, 'update.status', {}, { timeoutMs: 5_000 }).catch(() => undefined);
      return reply?.status === 'ok';
    }, 30_000);
    return reply;
  };
  await runningVersion('0.1.0');

  await t.test('a good release is applied, restarted into and committed', async (t) => {
    const reply = await applyRelease(await realReleaseTree(path.join(dir, 'src-0.2.0'), '0.2.0'));
    t.match(reply, { status: 'ok', data: { outcome: 'switched', from: '0.1.0', to: '0.2.0' } });
    await eventually('update.committed', () => events('update.committed').length > 0, 40_000);
    t.match(events('update.committed'), [{ from: '0.1.0', to: '0.2.0', stage: 'committed' }]);
    t.same(
      events('update.progress').filter((e) => e['version'] === '0.2.0' && e['stage'] !== 'downloading').map((e) => e['stage']),
      ['verifying', 'unpacking', 'switching', 'restarting'],
      'the cloud saw the progress',
    );
    await runningVersion('0.2.0');
    const status = await updateStatus();
    t.match(status, { status: 'ok', data: { version: '0.2.0', current: '0.2.0', lastUpdate: { stage: 'committed', reported: true } } });
    t.same((status as unknown as { data: { releases: string[] } }).data.releases.sort(), ['0.1.0', '0.2.0']);
    t.match(service.runs, [{ release: '0.1.0', code: 75 }], 'the old release exited with 75 for the restart');
    t.equal(await fs.readFile(path.join(appDir, 'update-guard.mjs'), 'utf8'), await fs.readFile(path.join(appDir, 'releases', '0.2.0', 'agent', 'update', 'update-guard.mjs'), 'utf8'));
  });

  await t.test('a release that crashes on start is rolled back by the guard', async (t) => {
    const reply = await applyRelease(await fakeReleaseTree(path.join(dir, 'src-0.3.0'), '0.3.0', 'crash'));
    t.match(reply, { status: 'ok', data: { outcome: 'switched', to: '0.3.0' } });
    await eventually('update.failed for 0.3.0', () => events('update.failed').some((e) => e['to'] === '0.3.0'), 40_000);
    t.match(events('update.failed').find((e) => e['to'] === '0.3.0'), { from: '0.2.0', stage: 'rolled-back', reason: /stopped before it was committed/ });
    await runningVersion('0.2.0');
    t.match(service.runs.slice(1), [{ release: '0.2.0', code: 75 }, { release: '0.3.0', code: 1 }], '0.3.0 crashed once, then the guard switched back');
    t.equal(path.basename(await fs.readlink(path.join(appDir, 'current'))), '0.2.0');
    await eventually('failed release deleted', () => fs.access(path.join(appDir, 'releases', '0.3.0')).then(() => false, () => true));
  });

  await t.test('a release that never gets healthy is rolled back by its commit timer', async (t) => {
    const tree = await realReleaseTree(path.join(dir, 'src-0.4.0'), '0.4.0', { file: 'dist/agent/core/system-module.js', from: "return { level: 'ok' };", to: "return { level: 'fault', reason: 'broken release' };" });
    const reply = await applyRelease(tree);
    t.match(reply, { status: 'ok', data: { outcome: 'switched', to: '0.4.0' } });
    await eventually('update.failed for 0.4.0', () => events('update.failed').some((e) => e['to'] === '0.4.0'), 40_000);
    t.match(events('update.failed').find((e) => e['to'] === '0.4.0'), { from: '0.2.0', stage: 'rolled-back', reason: /health was fault/ });
    await runningVersion('0.2.0');
    t.match(service.runs.slice(3), [{ release: '0.2.0', code: 75 }, { release: '0.4.0', code: 75 }], '0.4.0 ran, rolled back and asked for the restart');
    const status = await updateStatus();
    t.match(status, { data: { version: '0.2.0', current: '0.2.0', lastUpdate: { to: '0.4.0', stage: 'rolled-back' } } });
  });

  await t.test('refused: bad signature and an older version; nothing restarts', async (t) => {
    const r = await pack(await fakeReleaseTree(path.join(dir, 'src-0.5.0'), '0.5.0'), path.join(dir, 'out'), key);
    const data = (await fs.readFile(r.tarball)).toString('base64');
    const bad = await cloud.command(boxId, 'update.apply', { version: '0.5.0', sig: { ...r.manifest, signature: Buffer.alloc(64, 7).toString('base64') }, data });
    t.match(bad, { status: 'error', error: { code: 'CommandRejected', message: /does not verify/ } });
    const old = await pack(await fakeReleaseTree(path.join(dir, 'src-0.1.5'), '0.1.5'), path.join(dir, 'out'), key);
    const older = await cloud.command(boxId, 'update.apply', { version: '0.1.5', sig: old.manifest, data: (await fs.readFile(old.tarball)).toString('base64') });
    t.match(older, { status: 'error', error: { code: 'CommandRejected', message: /older than the running/ } });
    t.same((await fs.readdir(path.join(appDir, 'releases'))).sort(), ['0.1.0', '0.2.0'], 'failed releases were deleted after their rollback; nothing new unpacked');
    t.equal(service.runs.length, 5, 'no restart');
  });
  await t.test('CLI: keygen and pack with a rotated key, update apply and status through the control socket', async (t) => {
    const cli = (args: string[]) => runNode([path.join(appDir, 'current', 'bin', 'praxisbox.js'), ...args], env, 120_000);
    const keygen = await cli(['release', 'keygen', '--id', 'rotated-2', '--out', path.join(dir, 'keys')]);
    t.equal(keygen.code, 0, keygen.stderr);
    // Rotation: the running release's keyring lists the old and the new key (docs/updates.md).
    await fs.writeFile(key.keyringFile, JSON.stringify({ keys: [...key.keyring.keys, JSON.parse(keygen.stdout)] }));
    const tree = await realReleaseTree(path.join(dir, 'src-0.5.0'), '0.5.0');
    const packed = await cli(['release', 'pack', '--key', path.join(dir, 'keys', 'rotated-2.key'), '--out', path.join(dir, 'out2'), '--from', tree]);
    t.equal(packed.code, 0, packed.stderr);
    const [tarball, sigFile] = packed.stdout.trim().split('\n') as [string, string];
    t.match(JSON.parse(await fs.readFile(sigFile, 'utf8')), { keyId: 'rotated-2', version: '0.5.0' });
    const applied = await cli(['update', 'apply', tarball, '--sig', sigFile]);
    t.equal(applied.code, 0, applied.stderr);
    t.match(applied.stdout, /switched to 0.5.0/);
    await eventually('update.committed for 0.5.0', () => events('update.committed').some((e) => e['to'] === '0.5.0'), 40_000);
    await runningVersion('0.5.0');
    await updateStatus();
    const status = await cli(['update', 'status', '--json']);
    t.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as { version: string; releases: string[] };
    t.equal(parsed.version, '0.5.0');
    t.same(parsed.releases.sort(), ['0.2.0', '0.5.0'], 'pruned to current and previous (keepReleases 2)');
  });
});
